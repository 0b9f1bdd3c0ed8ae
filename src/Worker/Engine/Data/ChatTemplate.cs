using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using TuningService.Domain.Datasets;
using TuningService.Worker.Engine.Chat;
using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Engine.Data;

/// <summary>
/// How conversations become text: the checkpoint's own Jinja <c>chat_template</c> (chat_template.jinja, else
/// tokenizer_config.json's, a string or the "default" of a named list), rendered as transformers'
/// <c>apply_chat_template</c> does (messages, add_generation_prompt, the tokenizer's special tokens as variables);
/// ChatML only for checkpoints without one (the presets), ending turns with "&lt;|im_end|&gt;" when the tokenizer has it,
/// else with its EOS. The rendered text carries its own special tokens (BOS included): it is tokenized once, as is,
/// and no BOS is added to it. Loss falls on assistant turns with weight ≠ 0, including their end-of-turn token.
/// Thread-safe: datasets are rendered in parallel.
/// </summary>
public sealed class ChatTemplate
{
    private static readonly ConditionalWeakTable<TextTokenizer, ChatTemplate> ByTokenizer = [];
    private static readonly string[] SpecialTokenKeys = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    private readonly JinjaTemplate jinja;
    private readonly JsonObject specialTokens;
    private readonly IReadOnlyCollection<string> specialTexts;
    private readonly string? eosToken;

    private readonly Lazy<string?> endOfTurn;

    private ChatTemplate(string source, JsonObject specialTokens, IReadOnlyCollection<string> specialTexts, string description)
    {
        jinja = JinjaTemplate.For(source);
        this.specialTokens = specialTokens;
        this.specialTexts = specialTexts;
        eosToken = specialTokens["eos_token"]?.GetValue<string>();
        Description = description;
        endOfTurn = new Lazy<string?>(FindEndOfTurn);
    }

    /// <summary>
    /// The special token that ends an assistant turn in this template ("&lt;|eot_id|&gt;", "&lt;end_of_turn&gt;", "&lt;|im_end|&gt;"...),
    /// found by rendering a short exchange; null when the template ends turns otherwise. Generation stops on it.
    /// </summary>
    public string? EndOfTurn => endOfTurn.Value;

    /// <summary>Which template this is, as the job's events say it ("the checkpoint's own (tokenizer_config.json)", "ChatML (...)").</summary>
    public string Description { get; }

    private int conversations;

    /// <summary>Conversations rendered so far (methods report the template only when one was).</summary>
    public int Conversations => conversations;

    /// <summary>The template of the model whose tokenizer this is (prepared once per tokenizer).</summary>
    public static ChatTemplate Of(TextTokenizer tokenizer)
        => ByTokenizer.GetValue(tokenizer, t => FromDirectory(t.SourceDirectory, t.SpecialTokens.Keys, t.BosToken, t.EosToken) ?? ChatMl(t));

    /// <summary>
    /// The checkpoint's own template in <paramref name="directory"/>, or null when it has none. Special tokens come from
    /// tokenizer_config.json and special_tokens_map.json; <paramref name="bosToken"/>/<paramref name="eosToken"/> fill what they lack.
    /// </summary>
    public static ChatTemplate? FromDirectory(string? directory, IEnumerable<string> tokenizerSpecialTokens, string? bosToken = null, string? eosToken = null)
    {
        if (directory is null) return null;
        var config = ReadJson(Path.Combine(directory, "tokenizer_config.json"));
        var jinjaFile = Path.Combine(directory, "chat_template.jinja");
        var (source, origin) = File.Exists(jinjaFile) ? (File.ReadAllText(jinjaFile), "chat_template.jinja") : (Named(config?["chat_template"]), "tokenizer_config.json");
        if (source is null) return null;

        var variables = new JsonObject();
        var map = ReadJson(Path.Combine(directory, "special_tokens_map.json"));
        foreach (var key in SpecialTokenKeys)
            if ((TokenText(config?[key]) ?? TokenText(map?[key])) is string text) variables[key] = text;
        if (bosToken is not null && !variables.ContainsKey("bos_token")) variables["bos_token"] = bosToken;
        if (eosToken is not null && !variables.ContainsKey("eos_token")) variables["eos_token"] = eosToken;
        var additional = config?["additional_special_tokens"] as JsonArray ?? map?["additional_special_tokens"] as JsonArray;
        if (additional is not null) variables["additional_special_tokens"] = new JsonArray(additional.Select(t => (JsonNode?)JsonValue.Create(TokenText(t))).ToArray());

        var specials = new HashSet<string>(tokenizerSpecialTokens, StringComparer.Ordinal);
        foreach (var kv in config?["added_tokens_decoder"] as JsonObject ?? []) if (TokenText(kv.Value) is string t) specials.Add(t);
        foreach (var kv in variables) if (kv.Value is JsonValue v && v.TryGetValue<string>(out var s)) specials.Add(s);
        return new ChatTemplate(source, variables, specials, $"the checkpoint's own ({origin})");
    }

    /// <summary>ChatML for a tokenizer whose checkpoint has no template; BOS first when the model uses one.</summary>
    public static ChatTemplate ChatMl(TextTokenizer tokenizer)
    {
        bool hasImEnd = tokenizer.TokenId("<|im_end|>") is not null;
        var source = (tokenizer.AddBos ? "{{ bos_token }}" : "")
            + "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
            + (hasImEnd ? "'<|im_end|>'" : "eos_token") + " + '\\n' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
        var variables = new JsonObject { ["eos_token"] = tokenizer.EosToken };
        if (tokenizer.BosToken is not null) variables["bos_token"] = tokenizer.BosToken;
        return new ChatTemplate(source, variables, tokenizer.SpecialTokens.Keys.ToList(),
            $"ChatML (the checkpoint has none; turns end with {(hasImEnd ? "<|im_end|>" : tokenizer.EosToken)})");
    }

    /// <summary>The conversation as the template renders it; <paramref name="addGenerationPrompt"/> appends the header of the next assistant turn.</summary>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var variables = specialTokens.DeepClone().AsObject();
        variables["messages"] = new JsonArray(messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToArray());
        variables["add_generation_prompt"] = addGenerationPrompt;
        return jinja.Render(variables);
    }

    /// <summary>The prompt that asks the model for the next assistant turn (generation, PPO).</summary>
    public string RenderPrompt(IReadOnlyList<ChatMessage> messages)
    {
        Interlocked.Increment(ref conversations);
        return Render(messages, addGenerationPrompt: true);
    }

    /// <summary>A training example: the rendered conversation, its weighted assistant turns (with their end-of-turn) trained.</summary>
    public TrainingExample RenderExample(IReadOnlyList<ChatMessage> messages)
    {
        Interlocked.Increment(ref conversations);
        var text = Render(messages, addGenerationPrompt: false);
        var spans = AssistantSpans.Locate(text, messages, m => Render(m, false), specialTexts, eosToken);
        var segments = new List<ExampleSegment>();
        int position = 0, assistant = 0;
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i].Role != ChatMessage.Assistant) continue;
            var (start, end) = spans[assistant++];
            if (messages[i].Weight == 0) continue;                                           // a null weight means 1
            if (start > position) segments.Add(ExampleSegment.Prompt(text[position..start]));
            segments.Add(ExampleSegment.Completion(text[start..end]));
            position = end;
        }
        if (position < text.Length) segments.Add(ExampleSegment.Prompt(text[position..]));
        return new TrainingExample(segments, AddBos: false);
    }

    /// <summary>
    /// The prompt's messages followed by <paramref name="response"/> as an assistant turn, as one text; the response (with
    /// its end-of-turn) starts at ResponseStart. Preference pairs render both sides so.
    /// </summary>
    public (string Text, int ResponseStart) RenderResponse(IReadOnlyList<ChatMessage> prompt, string response)
    {
        Interlocked.Increment(ref conversations);
        List<ChatMessage> messages = [.. prompt, new ChatMessage(ChatMessage.Assistant, response)];
        var text = Render(messages, addGenerationPrompt: false);
        return (text, AssistantSpans.Locate(text, messages, m => Render(m, false), specialTexts, eosToken)[^1].Start);
    }

    private string? FindEndOfTurn()
    {
        List<ChatMessage> exchange = [new(ChatMessage.User, "Hi"), new(ChatMessage.Assistant, "Hello")];
        try
        {
            var text = Render(exchange, addGenerationPrompt: false);
            var (start, end) = AssistantSpans.Locate(text, exchange, m => Render(m, false), specialTexts, eosToken)[0];
            return specialTexts.Where(t => t.Length > 0 && end - start >= t.Length && string.CompareOrdinal(text, end - t.Length, t, 0, t.Length) == 0)
                .MaxBy(t => t.Length);
        }
        catch (ChatTemplateException)
        {
            return null;                                                   // a template that refuses even this exchange
        }
    }

    private static string? Named(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonArray list => list.OfType<JsonObject>().FirstOrDefault(t => t["name"]?.GetValue<string>() == "default")?["template"]?.GetValue<string>(),
        _ => null,
    };

    private static string? TokenText(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonObject o => o["content"]?.GetValue<string>(),
        _ => null,
    };

    private static JsonObject? ReadJson(string path) => File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject : null;
}
