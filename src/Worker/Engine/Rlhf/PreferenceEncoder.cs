using TuningService.Domain.Datasets;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Engine.Rlhf;

/// <summary>
/// A prompt with a preferred and a dispreferred response; <see cref="Margin"/> optionally says by how much. A chat prompt
/// (<see cref="PromptMessages"/>) is rendered by the chat template with each response as the assistant turn.
/// </summary>
public sealed record PreferencePair(string Prompt, string Chosen, string Rejected, double? Margin = null)
{
    public IReadOnlyList<ChatMessage>? PromptMessages { get; init; }
}

/// <summary>A PPO prompt's text; <see cref="AddBos"/> is false for chat-template text, which carries its own special tokens.</summary>
public sealed record PromptText(string Text, bool AddBos);

/// <summary>
/// Token ids of both sides of a pair: prompt (with BOS if the model uses one) + response + EOS.
/// The first <see cref="PromptLength"/> tokens are the shared prompt; the rest is the response.
/// </summary>
public sealed record EncodedPair(int[] Chosen, int[] Rejected, int PromptLength, double Margin)
{
    public int Tokens => Chosen.Length + Rejected.Length;
}

/// <summary>
/// Token ids for preference pairs and PPO prompts. (Files are parsed by the Domain's dataset parser; see
/// <c>RlhfData</c>.)
/// </summary>
public static class PreferenceEncoder
{
    /// <summary>
    /// Prompt ids as generation expects them (BOS first when <paramref name="addBos"/> and the model uses one; a chat
    /// template's text carries its own), keeping the last <paramref name="maxTokens"/>.
    /// </summary>
    public static int[] EncodePrompt(string prompt, TextTokenizer tokenizer, int maxTokens, bool addBos = true)
    {
        int[] ids = addBos && tokenizer.AddBos && tokenizer.BosId is int bos ? [bos, .. tokenizer.Encode(prompt)] : tokenizer.Encode(prompt);
        return ids.Length <= maxTokens ? ids : ids[^maxTokens..];
    }

    /// <summary>
    /// Encodes pairs, each side tokenized once as prompt + response: a plain prompt gets BOS (when the model uses one) and
    /// an EOS after the response; a chat prompt is rendered by <paramref name="template"/> with the response as the
    /// assistant turn (its end-of-turn included). A pair whose longer side exceeds <paramref name="maxLength"/> tokens is
    /// dropped (and counted), never truncated.
    /// </summary>
    public static (List<EncodedPair> Kept, int Dropped) EncodePairs(IEnumerable<PreferencePair> pairs, TextTokenizer tokenizer, int maxLength,
        double defaultMargin = 0, ChatTemplate? template = null)
    {
        var kept = new List<EncodedPair>();
        int dropped = 0;
        // Chat templates render in parallel (milliseconds each under Jint); tokenization stays sequential, in order.
        var rendered = pairs.AsParallel().AsOrdered()
            .Select(pair => (Pair: pair, Chosen: Render(pair, pair.Chosen, template), Rejected: Render(pair, pair.Rejected, template)))
            .ToList();
        foreach (var (pair, chosenText, rejectedText) in rendered)
        {
            bool plain = pair.PromptMessages is null;
            var (chosen, chosenPrompt) = Tokenize(chosenText, plain, tokenizer);
            var (rejected, rejectedPrompt) = Tokenize(rejectedText, plain, tokenizer);
            if (Math.Max(chosen.Length, rejected.Length) > maxLength) { dropped++; continue; }
            int shared = 0;
            while (shared < Math.Min(chosenPrompt, rejectedPrompt) && chosen[shared] == rejected[shared]) shared++;
            kept.Add(new EncodedPair(chosen, rejected, shared, pair.Margin ?? defaultMargin));
        }
        return (kept, dropped);
    }

    /// <summary>One side as text: a plain prompt followed by the response, or the chat rendered with the response as the assistant turn.</summary>
    private static (string Text, int ResponseStart) Render(PreferencePair pair, string response, ChatTemplate? template)
        => pair.PromptMessages is null
            ? (pair.Prompt + response, pair.Prompt.Length)
            : (template ?? throw new ArgumentException("A chat preference pair needs the chat template.", nameof(template))).RenderResponse(pair.PromptMessages, response);

    /// <summary>One side's ids (tokenized once; BOS and EOS added to plain text) and how many are prompt: tokens ending before the response.</summary>
    private static (int[] Ids, int PromptTokens) Tokenize((string Text, int ResponseStart) side, bool plain, TextTokenizer tokenizer)
    {
        var encoded = tokenizer.EncodeWithOffsets(side.Text);
        var ids = new List<int>(encoded.Ids.Length + 2);
        if (plain && tokenizer.AddBos && tokenizer.BosId is int bos) ids.Add(bos);
        int promptTokens = ids.Count + encoded.Offsets.TakeWhile(o => o.End <= side.ResponseStart && o.Start < side.ResponseStart).Count();
        ids.AddRange(encoded.Ids);
        if (plain) ids.Add(tokenizer.EosId);
        return (ids.ToArray(), promptTokens);
    }
}
