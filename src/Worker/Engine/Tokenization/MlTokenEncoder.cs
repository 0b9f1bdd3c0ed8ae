using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace TuningService.Worker.Engine.Tokenization;

/// <summary>
/// A Microsoft.ML.Tokenizers tokenizer with the special tokens split out of the text first (each becomes its id).
/// Used for GPT-2's embedded vocabulary and vocab.json + merges.txt.
/// </summary>
internal sealed class MlTokenEncoder : ITokenEncoder
{
    private readonly Tokenizer inner;
    private readonly IReadOnlyDictionary<string, int> specialTokens;
    private readonly Regex? specialSplitter;

    public MlTokenEncoder(Tokenizer inner, IReadOnlyDictionary<string, int> specialTokens)
    {
        this.inner = inner;
        this.specialTokens = specialTokens;
        if (specialTokens.Count > 0)
            specialSplitter = new Regex("(" + string.Join("|", specialTokens.Keys.OrderByDescending(k => k.Length).Select(Regex.Escape)) + ")", RegexOptions.CultureInvariant);
    }

    public EncodedText Encode(string text)
    {
        var ids = new List<int>();
        var offsets = new List<(int Start, int End)>();
        int position = 0;
        foreach (var part in specialSplitter is null ? [text] : specialSplitter.Split(text))
        {
            int partStart = position;
            position += part.Length;
            if (part.Length == 0) continue;
            if (specialTokens.TryGetValue(part, out var special)) { ids.Add(special); offsets.Add((partStart, position)); continue; }
            var tokens = inner.EncodeToTokens(part, out var normalized);
            // SentencePiece normalizes to "▁" + text with spaces escaped: one character longer, shifted by one.
            int shift = normalized is null ? 0 : normalized.Length - part.Length;
            if (shift is < 0 or > 1) throw new NotSupportedException($"The tokenizer's normalization changes the text's length ({part.Length} → {normalized!.Length}); its offsets cannot be mapped back.");
            foreach (var token in tokens)
            {
                var (start, length) = token.Offset.GetOffsetAndLength(part.Length + shift);
                ids.Add(token.Id);
                offsets.Add((partStart + Math.Clamp(start - shift, 0, part.Length), partStart + Math.Clamp(start + length - shift, 0, part.Length)));
            }
        }
        return new EncodedText(ids.ToArray(), offsets.ToArray());
    }

    public string Decode(IEnumerable<int> ids) => inner.Decode(ids) ?? string.Empty;
}
