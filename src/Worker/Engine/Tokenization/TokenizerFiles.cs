using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using TuningService.Worker.Engine.Tokenization.SentencePiece;
using TuningService.Worker.Engine.Tokenization.TokenizerJson;

namespace TuningService.Worker.Engine.Tokenization;

/// <summary>Finds and reads the tokenizer of a model directory, and writes it back next to saved models.</summary>
public static class TokenizerFiles
{
    /// <summary>GPT-2's pre-tokenization regex (also the default for byte-level tokenizer.json files).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private const string EmbeddedMarker = "tuningservice_tokenizer";
    private static readonly string[] CopiedFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt", "tokenizer.model", "generation_config.json", "chat_template.jinja"];

    /// <summary>GPT-2's tokenizer from the embedded vocabulary (no files needed).</summary>
    public static TextTokenizer Gpt2()
    {
        var inner = TiktokenTokenizer.CreateForModel("gpt2");
        var special = new Dictionary<string, int> { [Gpt2HuggingFaceFiles.EndOfText] = Gpt2HuggingFaceFiles.EndOfTextId };
        return new TextTokenizer(new MlTokenEncoder(inner, special), TokenizerKind.EmbeddedGpt2, special, Gpt2HuggingFaceFiles.EndOfText, null, addBos: false, sourceDirectory: null);
    }

    /// <summary>
    /// The tokenizer of a Hugging Face model directory, in order of preference: our marker for the embedded GPT-2
    /// vocabulary (saved next to GPT-2's vocab.json + merges.txt, or alone by older versions), tokenizer.json (any
    /// model, run as the Rust tokenizers library runs it; preferred over tokenizer.model as transformers'
    /// AutoTokenizer prefers the fast tokenizer), tokenizer.model (SentencePiece), vocab.json + merges.txt.
    /// </summary>
    public static TextTokenizer Load(string directory)
    {
        var tokenizerConfig = ReadJson(Path.Combine(directory, "tokenizer_config.json"));
        var modelConfig = ReadJson(Path.Combine(directory, "config.json"));
        if (tokenizerConfig?[EmbeddedMarker]?.GetValue<string>() == "gpt2") return Gpt2();
        var tokenizerJson = Path.Combine(directory, "tokenizer.json");
        var spModel = Path.Combine(directory, "tokenizer.model");
        if (File.Exists(tokenizerJson)) return FromTokenizerJson(directory, tokenizerConfig, modelConfig);
        if (File.Exists(spModel)) return FromSentencePiece(directory, tokenizerConfig, modelConfig);
        if (File.Exists(Path.Combine(directory, "vocab.json")) && File.Exists(Path.Combine(directory, "merges.txt")))
            return FromVocabMerges(directory, tokenizerConfig, modelConfig);
        throw new FileNotFoundException($"No supported tokenizer in {directory} (tokenizer.json, tokenizer.model, or vocab.json + merges.txt).");
    }

    /// <summary>
    /// Writes the tokenizer files next to a saved model: the embedded GPT-2 vocabulary as Hugging Face's vocab.json +
    /// merges.txt (with our marker kept in tokenizer_config.json), any other tokenizer as copies of its source files.
    /// </summary>
    public static void Save(TextTokenizer tokenizer, string directory)
    {
        Directory.CreateDirectory(directory);
        if (tokenizer.Kind == TokenizerKind.EmbeddedGpt2)
        {
            Gpt2HuggingFaceFiles.Write(directory, EmbeddedMarker);
            return;
        }
        if (tokenizer.SourceDirectory is null) throw new InvalidOperationException($"A {tokenizer.Kind} tokenizer has no source directory to copy.");
        foreach (var name in CopiedFiles)
        {
            var source = Path.Combine(tokenizer.SourceDirectory, name);
            if (File.Exists(source)) File.Copy(source, Path.Combine(directory, name), overwrite: true);
        }
    }

    private static TextTokenizer FromTokenizerJson(string directory, JsonObject? tokenizerConfig, JsonObject? modelConfig)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "tokenizer.json")))!.AsObject();
        var encoder = new TokenizerJsonEncoder(json);
        var special = new Dictionary<string, int>();
        foreach (var token in encoder.AddedTokens) special[token.Content] = token.Id;
        var (bos, eos) = BosEos(tokenizerConfig, modelConfig, special);
        bool addBos = tokenizerConfig?["add_bos_token"]?.GetValue<bool>()
            ?? (bos is not null && TemplateStartsWith(json["post_processor"], bos)); // Llama 3: TemplateProcessing adds BOS
        return new TextTokenizer(encoder, TokenizerKind.TokenizerJson, special, eos, bos, addBos, directory);
    }

    /// <summary>
    /// tokenizer.model encoded as sentencepiece does, with transformers' LlamaTokenizer rules on top (added tokens,
    /// `legacy`, `add_prefix_space`).
    /// </summary>
    private static TextTokenizer FromSentencePiece(string directory, JsonObject? tokenizerConfig, JsonObject? modelConfig)
    {
        var model = SentencePieceModel.Load(Path.Combine(directory, "tokenizer.model"));
        var encoder = LlamaTokenizerConfig.Encoder(model, tokenizerConfig);
        var special = new Dictionary<string, int>();
        foreach (var token in encoder.AddedTokens) special.TryAdd(token.Content, token.Id);
        var (bos, eos) = BosEos(tokenizerConfig, modelConfig, special);
        var modelBos = model.Proto.BosId >= 0 && model.Proto.BosId < model.Count ? model.PieceOf(model.Proto.BosId) : null;
        bool addBos = tokenizerConfig?["add_bos_token"]?.GetValue<bool>() ?? true;
        return new TextTokenizer(encoder, TokenizerKind.SentencePiece, special, eos, bos ?? modelBos, addBos, directory);
    }

    private static TextTokenizer FromVocabMerges(string directory, JsonObject? tokenizerConfig, JsonObject? modelConfig)
    {
        var vocab = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "vocab.json")))!.AsObject()
            .Select(kv => KeyValuePair.Create(kv.Key, kv.Value!.GetValue<int>())).ToList();
        var merges = File.ReadAllLines(Path.Combine(directory, "merges.txt")).Where(l => l.Length > 0 && !l.StartsWith("#version")).ToList();
        var special = vocab.Where(kv => kv.Key.StartsWith("<|") && kv.Key.EndsWith("|>")).ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var (content, id) in AddedTokens(tokenizerConfig)) special.TryAdd(content, id);
        var inner = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges, SpecialTokens = special, ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(new Regex(Gpt2Pattern, RegexOptions.Compiled), special),
        });
        var (bos, eos) = BosEos(tokenizerConfig, modelConfig, special);
        bool addBos = tokenizerConfig?["add_bos_token"]?.GetValue<bool>() ?? false;
        return new TextTokenizer(new MlTokenEncoder(inner, special), TokenizerKind.VocabMerges, special, eos, bos, addBos, directory);
    }

    /// <summary>Whether the post-processor's single-sequence template (searched through Sequence) starts with <paramref name="token"/>.</summary>
    private static bool TemplateStartsWith(JsonNode? processor, string token) => processor switch
    {
        JsonObject o when o["type"]?.GetValue<string>() == "TemplateProcessing"
            => (o["single"] as JsonArray)?.FirstOrDefault()?["SpecialToken"]?["id"]?.GetValue<string>() == token,
        JsonObject o when o["processors"] is JsonArray list => list.Any(p => TemplateStartsWith(p, token)),
        _ => false,
    };

    /// <summary>BOS/EOS strings from tokenizer_config.json, else from config.json ids, else the first special token.</summary>
    private static (string? Bos, string Eos) BosEos(JsonObject? tokenizerConfig, JsonObject? modelConfig, IReadOnlyDictionary<string, int> special)
    {
        string? FromIds(string key)
        {
            var node = modelConfig?[key];
            int? id = node is JsonArray a ? a[0]?.GetValue<int>() : node is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;
            return id is null ? null : special.FirstOrDefault(kv => kv.Value == id).Key;
        }
        var bos = TokenString(tokenizerConfig?["bos_token"]) ?? FromIds("bos_token_id");
        var eos = TokenString(tokenizerConfig?["eos_token"]) ?? FromIds("eos_token_id")
            ?? special.Keys.FirstOrDefault(k => k is "<|endoftext|>" or "</s>" or "<|end_of_text|>")
            ?? throw new InvalidDataException("The tokenizer names no EOS token.");
        return (bos is not null && special.ContainsKey(bos) ? bos : null, eos);
    }

    private static string? TokenString(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonObject o => o["content"]?.GetValue<string>(),
        _ => null,
    };

    private static IEnumerable<(string Content, int Id)> AddedTokens(JsonObject? tokenizerConfig)
        => (tokenizerConfig?["added_tokens_decoder"] as JsonObject ?? []).Select(kv => (kv.Value!["content"]!.GetValue<string>(), int.Parse(kv.Key)));

    private static JsonObject? ReadJson(string path) => File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject : null;
}
