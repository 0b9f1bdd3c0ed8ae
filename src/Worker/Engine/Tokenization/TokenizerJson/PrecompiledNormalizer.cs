using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using TuningService.Worker.Engine.Tokenization.SentencePiece;

namespace TuningService.Worker.Engine.Tokenization.TokenizerJson;

/// <summary>
/// "Precompiled": a SentencePiece model's normalization rules (its precompiled_charsmap, base64) carried into a
/// tokenizer.json by the slow-to-fast conversion (T5, ALBERT, XLNet, mBART, XLM-R). Applied as the Rust library
/// applies it, which is not SentencePiece's own longest-match walk: per grapheme cluster, a cluster under 6 UTF-8 bytes
/// whose start matches a rule is replaced whole by the shortest such rule; otherwise each code point is looked up alone.
/// Alignment follows the library too: replacement characters take the span of the character they overwrite, extra
/// ones that of the last character consumed, and a shorter replacement drops the spans of the characters it swallows.
/// </summary>
internal sealed class PrecompiledNormalizer(PrecompiledCharsMap rules) : INormalizer
{
    private const int WholeClusterBytes = 6;  // clusters of this many UTF-8 bytes or more are looked up per code point

    public static PrecompiledNormalizer Read(JsonObject node)
    {
        var base64 = node["precompiled_charsmap"]?.GetValue<string>()
            ?? throw new InvalidDataException("tokenizer.json: the Precompiled normalizer has no precompiled_charsmap.");
        try
        {
            return new PrecompiledNormalizer(new PrecompiledCharsMap(Convert.FromBase64String(base64)));
        }
        catch (FormatException e)
        {
            throw new InvalidDataException("tokenizer.json: the Precompiled normalizer's precompiled_charsmap is not base64.", e);
        }
    }

    public AlignedText Normalize(AlignedText text)
    {
        var edits = new List<Edit>(text.Length);
        bool modified = false;
        Span<byte> utf8 = stackalloc byte[WholeClusterBytes], runeUtf8 = stackalloc byte[4];
        for (int at = 0; at < text.Length;)
        {
            int length = StringInfo.GetNextTextElementLength(text.Text, at);
            var cluster = text.Text.AsSpan(at, length);
            if (Encoding.UTF8.GetByteCount(cluster) < WholeClusterBytes)
            {
                var (matched, replacement) = rules.ShortestMatch(utf8[..Encoding.UTF8.GetBytes(cluster, utf8)]);
                if (matched > 0)
                {
                    modified = true;
                    Replace(edits, CountRunes(cluster), replacement);
                    at += length;
                    continue;
                }
            }
            foreach (var rune in cluster.EnumerateRunes())
            {
                var (matched, replacement) = rules.ShortestMatch(runeUtf8[..rune.EncodeToUtf8(runeUtf8)]);
                if (matched > 0)
                {
                    modified = true;
                    Replace(edits, 1, replacement);
                }
                else edits.Add(new Edit(rune, 0));
            }
            at += length;
        }
        return modified ? Apply(text, edits) : text;
    }

    /// <summary>
    /// One output code point and how it relates to the input: 0 overwrites the next input code point, n &gt; 0 is
    /// inserted (n is only its sign), n &lt; 0 overwrites the next one and removes -n more.
    /// </summary>
    private record struct Edit(Rune Rune, int Change);

    /// <summary>Records <paramref name="replacement"/> for <paramref name="replacedRunes"/> input code points, as the library does.</summary>
    private static void Replace(List<Edit> edits, int replacedRunes, string replacement)
    {
        int first = edits.Count;
        foreach (var rune in replacement.EnumerateRunes()) edits.Add(new Edit(rune, 0));
        int difference = edits.Count - first - replacedRunes;
        if (difference > 0)
            for (int i = edits.Count - difference; i < edits.Count; i++) edits[i] = edits[i] with { Change = 1 };
        // Fewer code points: the last edit so far (possibly an earlier cluster's, or none at the very start, where the
        // library loses the removal and later characters shift onto earlier spans) removes the rest.
        else if (difference < 0 && edits.Count > 0) edits[^1] = edits[^1] with { Change = edits[^1].Change + difference };
    }

    private static AlignedText Apply(AlignedText text, List<Edit> edits)
    {
        var input = text.Runes().ToList();
        var builder = new AlignedTextBuilder(text.OriginalStart);
        int next = 0;  // the next input code point to consume
        foreach (var edit in edits)
        {
            (int Start, int End) span;
            if (edit.Change > 0) span = next == 0 ? (text.OriginalStart, text.OriginalStart) : SpanOf(text, input[next - 1]);
            else
            {
                span = next < input.Count ? SpanOf(text, input[next]) : (text.OriginalEnd, text.OriginalEnd);
                next += 1 - edit.Change;
            }
            builder.Append(edit.Rune.ToString(), span);
        }
        return builder.Build();
    }

    private static (int Start, int End) SpanOf(AlignedText text, (Rune Rune, int Index, int Length) codePoint)
        => text.OriginalSpan(codePoint.Index, codePoint.Index + codePoint.Length);

    private static int CountRunes(ReadOnlySpan<char> text)
    {
        int count = 0;
        foreach (var _ in text.EnumerateRunes()) count++;
        return count;
    }
}
