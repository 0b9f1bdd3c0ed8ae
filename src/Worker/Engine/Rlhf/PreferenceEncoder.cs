using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Engine.Rlhf;

/// <summary>A prompt with a preferred and a dispreferred response; <see cref="Margin"/> optionally says by how much.</summary>
public sealed record PreferencePair(string Prompt, string Chosen, string Rejected, double? Margin = null);

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
    /// <summary>Prompt ids as generation expects them (BOS first when the model uses one), keeping the last <paramref name="maxTokens"/>.</summary>
    public static int[] EncodePrompt(string prompt, TextTokenizer tokenizer, int maxTokens)
    {
        int[] ids = tokenizer.AddBos && tokenizer.BosId is int bos ? [bos, .. tokenizer.Encode(prompt)] : tokenizer.Encode(prompt);
        return ids.Length <= maxTokens ? ids : ids[^maxTokens..];
    }

    /// <summary>Encodes pairs; a pair whose longer side exceeds <paramref name="maxLength"/> tokens is dropped (and counted), never truncated.</summary>
    public static (List<EncodedPair> Kept, int Dropped) EncodePairs(IEnumerable<PreferencePair> pairs, TextTokenizer tokenizer, int maxLength, double defaultMargin = 0)
    {
        var kept = new List<EncodedPair>();
        int dropped = 0;
        foreach (var pair in pairs)
        {
            var prompt = EncodePrompt(pair.Prompt, tokenizer, int.MaxValue);
            int[] chosen = [.. prompt, .. tokenizer.Encode(pair.Chosen, continuation: true), tokenizer.EosId];
            int[] rejected = [.. prompt, .. tokenizer.Encode(pair.Rejected, continuation: true), tokenizer.EosId];
            if (Math.Max(chosen.Length, rejected.Length) > maxLength) { dropped++; continue; }
            kept.Add(new EncodedPair(chosen, rejected, prompt.Length, pair.Margin ?? defaultMargin));
        }
        return (kept, dropped);
    }
}
