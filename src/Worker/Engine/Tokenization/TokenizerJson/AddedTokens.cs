using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace TuningService.Worker.Engine.Tokenization.TokenizerJson;

/// <summary>An entry of tokenizer.json's "added_tokens".</summary>
internal sealed record AddedToken(int Id, string Content, bool SingleWord, bool LStrip, bool RStrip, bool Normalized, bool Special)
{
    public static AddedToken Read(JsonObject o) => new(
        o["id"]!.GetValue<int>(), o["content"]!.GetValue<string>(),
        o["single_word"]?.GetValue<bool>() ?? false, o["lstrip"]?.GetValue<bool>() ?? false, o["rstrip"]?.GetValue<bool>() ?? false,
        o["normalized"]?.GetValue<bool>() ?? true, o["special"]?.GetValue<bool>() ?? false);
}

/// <summary>
/// Finds added tokens in a text the way the Rust library's AddedVocabulary does: leftmost-longest matches, a
/// single_word token only between non-word characters, lstrip/rstrip taking the whitespace beside it. Tokens with
/// normalized=false are matched on the original text, the others on the normalized text (their content normalized too).
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, (string Pattern, AddedToken Token)[]> byFirstChar;

    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedToken Token)> patterns)
    {
        byFirstChar = patterns.Where(p => p.Pattern.Length > 0).GroupBy(p => p.Pattern[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Pattern.Length).ToArray());
    }

    public bool IsEmpty => byFirstChar.Count == 0;

    /// <summary>The text cut into runs [Start, End) that are either an added token (with it) or plain text (null).</summary>
    public List<(int Start, int End, AddedToken? Token)> Split(string text)
    {
        var splits = new List<(int, int, AddedToken?)>();
        int startOffset = 0;
        for (int position = 0; position < text.Length;)
        {
            if (Longest(text, position) is not { } found) { position++; continue; }
            var (pattern, token) = found;
            int start = position, stop = position + pattern.Length;
            position = stop;
            if (token.SingleWord && (EndsWithWord(text.AsSpan(0, start)) || StartsWithWord(text.AsSpan(stop)))) continue;
            if (token.LStrip)
            {
                int newStart = start;
                while (newStart > 0 && char.IsWhiteSpace(text[newStart - 1])) newStart--;
                start = Math.Max(newStart, startOffset);
            }
            if (token.RStrip) while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
            if (startOffset < start) splits.Add((startOffset, start, null));
            splits.Add((start, stop, token));
            startOffset = stop;
        }
        if (startOffset < text.Length) splits.Add((startOffset, text.Length, null));
        return splits;
    }

    private static bool EndsWithWord(ReadOnlySpan<char> text)
        => Rune.DecodeLastFromUtf16(text, out var rune, out _) == OperationStatus.Done && IsWord(rune);

    private static bool StartsWithWord(ReadOnlySpan<char> text)
        => Rune.DecodeFromUtf16(text, out var rune, out _) == OperationStatus.Done && IsWord(rune);

    /// <summary>The Rust regex crate's \w: letters, marks, decimal and letter numbers, connectors, zero-width joiners.</summary>
    private static bool IsWord(Rune rune)
        => rune.Value is 0x200C or 0x200D || Rune.GetUnicodeCategory(rune) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
            or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or UnicodeCategory.DecimalDigitNumber
            or UnicodeCategory.LetterNumber or UnicodeCategory.ConnectorPunctuation;

    private (string Pattern, AddedToken Token)? Longest(string text, int position)
    {
        if (!byFirstChar.TryGetValue(text[position], out var candidates)) return null;
        foreach (var candidate in candidates)
            if (position + candidate.Pattern.Length <= text.Length && string.CompareOrdinal(text, position, candidate.Pattern, 0, candidate.Pattern.Length) == 0)
                return candidate;
        return null;
    }
}
