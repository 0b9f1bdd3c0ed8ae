using System.Text.Json;
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
/// Reads already-validated <c>preference</c> and <c>prompt_only</c> JSONL lines (validation with error codes is
/// the Domain parser's job). Chat prompts are rendered with the ChatML template up to the assistant header.
/// </summary>
public static class PreferenceJson
{
    /// <summary>{"prompt","chosen","rejected"[,"margin"]} or OpenAI's {"input":{"messages"},"preferred_output","non_preferred_output"}.</summary>
    public static PreferencePair ReadPair(JsonElement line, ChatTemplate template)
    {
        double? margin = line.TryGetProperty("margin", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetDouble() : null;
        if (line.TryGetProperty("input", out var input))
        {
            var prompt = template.RenderPrompt(Messages(input.GetProperty("messages")));
            return new PreferencePair(prompt, AssistantText(line.GetProperty("preferred_output")),
                AssistantText(line.GetProperty("non_preferred_output")), margin);
        }
        return new PreferencePair(Text(line, "prompt"), Text(line, "chosen"), Text(line, "rejected"), margin);
    }

    /// <summary>{"prompt"} or {"messages"} ending in a user turn, rendered up to the assistant header.</summary>
    public static string ReadPrompt(JsonElement line, ChatTemplate template)
        => line.TryGetProperty("messages", out var messages) ? template.RenderPrompt(Messages(messages)) : Text(line, "prompt");

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

    private static List<ChatMessage> Messages(JsonElement messages) => messages.EnumerateArray()
        .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString() ?? "")).ToList();

    private static string AssistantText(JsonElement output) => output.ValueKind == JsonValueKind.Array
        ? string.Concat(output.EnumerateArray().Select(m => m.GetProperty("content").GetString()))
        : output.GetProperty("content").GetString() ?? "";

    private static string Text(JsonElement line, string name)
        => line.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new FormatException($"The line has no string field '{name}'.");
}
