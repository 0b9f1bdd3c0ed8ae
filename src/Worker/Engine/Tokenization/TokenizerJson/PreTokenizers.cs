using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TuningService.Worker.Engine.Tokenization.TokenizerJson;

/// <summary>A tokenizer.json pre-tokenizer: splits a normalized piece into the words the model tokenizes one by one.</summary>
internal interface IPreTokenizer
{
    IEnumerable<AlignedText> Split(AlignedText piece);
}

/// <summary>Reads the "pre_tokenizer" of a tokenizer.json.</summary>
internal static class PreTokenizers
{
    /// <summary>GPT-2's regex, used by ByteLevel's use_regex.</summary>
    public static readonly Regex Gpt2 = new(TokenizerFiles.Gpt2Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
    /// <summary>The Rust regex crate's \w (.NET's leaves out spacing marks such as Devanagari vowel signs).</summary>
    public const string WordCharacter = @"[\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}\u200C\u200D]";
    private static readonly Regex WordsOrPunctuation = new($@"{WordCharacter}+|[^{WordCharacter[1..^1]}\s]+", RegexOptions.Compiled | RegexOptions.CultureInvariant);
    private static readonly Regex NonWhitespace = new(@"\S+", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    public static IPreTokenizer? Read(JsonNode? node)
    {
        if (node is not JsonObject o) return null;
        var type = o["type"]!.GetValue<string>();
        return type switch
        {
            "ByteLevel" => new ByteLevelPreTokenizer(o["add_prefix_space"]?.GetValue<bool>() ?? true, o["use_regex"]?.GetValue<bool>() ?? true),
            "Metaspace" => MetaspacePreTokenizer.Read(o),
            "Split" => new SplitPreTokenizer(Patterns.Read(o["pattern"]!), Behavior(o["behavior"]), o["invert"]?.GetValue<bool>() ?? false),
            "Digits" => new PredicatePreTokenizer(IsNumeric, o["individual_digits"]?.GetValue<bool>() == true ? SplitBehavior.Isolated : SplitBehavior.Contiguous),
            "Whitespace" => new SplitPreTokenizer(WordsOrPunctuation, SplitBehavior.Removed, invert: true),
            "WhitespaceSplit" => new SplitPreTokenizer(NonWhitespace, SplitBehavior.Removed, invert: true),
            "Punctuation" => new PredicatePreTokenizer(IsPunctuation, o["behavior"] is null ? SplitBehavior.Isolated : Behavior(o["behavior"])),
            "BertPreTokenizer" => new SequencePreTokenizer([
                new SplitPreTokenizer(NonWhitespace, SplitBehavior.Removed, invert: true),
                new PredicatePreTokenizer(IsPunctuation, SplitBehavior.Isolated)]),
            "Sequence" => new SequencePreTokenizer((o["pretokenizers"] as JsonArray ?? []).Select(p => Read(p)!).ToArray()),
            _ => throw new NotSupportedException($"The tokenizer.json pre-tokenizer '{type}' is not supported (supported: ByteLevel, Metaspace, Split, Digits, Whitespace, WhitespaceSplit, Punctuation, BertPreTokenizer, Sequence)."),
        };
    }

    private static SplitBehavior Behavior(JsonNode? node) => node?.GetValue<string>() switch
    {
        "Removed" => SplitBehavior.Removed,
        "Isolated" => SplitBehavior.Isolated,
        "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
        "MergedWithNext" => SplitBehavior.MergedWithNext,
        "Contiguous" => SplitBehavior.Contiguous,
        var other => throw new NotSupportedException($"The split behavior '{other}' is not supported."),
    };

    private static bool IsNumeric(Rune r) => Rune.IsNumber(r);

    private static bool IsPunctuation(Rune r)
        => r.IsAscii && char.IsAsciiLetterOrDigit((char)r.Value) is false && r.Value is > 32 and < 127
           || Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
               or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
               or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    /// <summary>
    /// Splits <paramref name="piece"/> at <paramref name="matches"/> (segments covering the text in order, each flagged
    /// as a match or not) the way the Rust library's NormalizedString.split does for each behavior; empty pieces drop.
    /// </summary>
    public static IEnumerable<AlignedText> SplitAt(AlignedText piece, List<(int Start, int End, bool IsMatch)> matches, SplitBehavior behavior)
    {
        var splits = new List<(int Start, int End, bool Remove)>();
        bool previousMatch = false;
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                splits.AddRange(matches.Select(m => (m.Start, m.End, false)));
                break;
            case SplitBehavior.Removed:
                splits.AddRange(matches.Select(m => (m.Start, m.End, m.IsMatch)));
                break;
            case SplitBehavior.Contiguous:
                foreach (var m in matches)
                {
                    if (m.IsMatch == previousMatch && splits.Count > 0) splits[^1] = (splits[^1].Start, m.End, false);
                    else splits.Add((m.Start, m.End, false));
                    previousMatch = m.IsMatch;
                }
                break;
            case SplitBehavior.MergedWithPrevious:
                foreach (var m in matches)
                {
                    if (m.IsMatch && !previousMatch && splits.Count > 0) splits[^1] = (splits[^1].Start, m.End, false);
                    else splits.Add((m.Start, m.End, false));
                    previousMatch = m.IsMatch;
                }
                break;
            case SplitBehavior.MergedWithNext:
                for (int i = matches.Count - 1; i >= 0; i--)
                {
                    var m = matches[i];
                    if (m.IsMatch && !previousMatch && splits.Count > 0) splits[^1] = (m.Start, splits[^1].End, false);
                    else splits.Add((m.Start, m.End, false));
                    previousMatch = m.IsMatch;
                }
                splits.Reverse();
                break;
        }
        foreach (var (start, end, remove) in splits)
            if (!remove && end > start) yield return piece.Slice(start, end);
    }

    /// <summary>The regex's matches and the gaps between them, covering the whole text (Rust's Pattern.find_matches).</summary>
    public static List<(int Start, int End, bool IsMatch)> FindMatches(Regex regex, string text, bool invert)
    {
        var result = new List<(int, int, bool)>();
        int previous = 0;
        foreach (var (index, length) in RegexText.Matches(regex, text))
        {
            if (previous != index) result.Add((previous, index, invert));
            result.Add((index, index + length, !invert));
            previous = index + length;
        }
        if (previous != text.Length) result.Add((previous, text.Length, invert));
        return result;
    }
}

internal enum SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

internal sealed class SplitPreTokenizer(Regex pattern, SplitBehavior behavior, bool invert) : IPreTokenizer
{
    public IEnumerable<AlignedText> Split(AlignedText piece)
        => PreTokenizers.SplitAt(piece, PreTokenizers.FindMatches(pattern, piece.Text, invert), behavior);
}

/// <summary>Splits on the code points a predicate selects (Digits, Punctuation).</summary>
internal sealed class PredicatePreTokenizer(Func<Rune, bool> selects, SplitBehavior behavior) : IPreTokenizer
{
    public IEnumerable<AlignedText> Split(AlignedText piece)
    {
        var matches = new List<(int Start, int End, bool IsMatch)>();
        int last = 0;
        foreach (var (rune, index, length) in piece.Runes())
        {
            if (!selects(rune)) continue;
            if (last < index) matches.Add((last, index, false));
            matches.Add((index, index + length, true));
            last = index + length;
        }
        if (last < piece.Length) matches.Add((last, piece.Length, false));
        return PreTokenizers.SplitAt(piece, matches, behavior);
    }
}

internal sealed class SequencePreTokenizer(IPreTokenizer[] steps) : IPreTokenizer
{
    public IEnumerable<AlignedText> Split(AlignedText piece)
    {
        IEnumerable<AlignedText> pieces = [piece];
        foreach (var step in steps) pieces = pieces.SelectMany(step.Split).ToList();
        return pieces;
    }
}

/// <summary>
/// GPT-2's byte level: optionally a leading space, optionally GPT-2's regex split, then every character as its UTF-8
/// bytes written in <see cref="ByteLevelAlphabet"/> (each byte keeping its character's span).
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : IPreTokenizer
{
    public IEnumerable<AlignedText> Split(AlignedText piece)
    {
        if (addPrefixSpace && !piece.Text.StartsWith(' '))
        {
            var builder = new AlignedTextBuilder(piece.OriginalStart);
            builder.Append(" ", piece.OriginalSpan(0, 0));
            builder.Copy(piece, 0, piece.Length);
            piece = builder.Build();
        }
        var pieces = useRegex ? new SplitPreTokenizer(PreTokenizers.Gpt2, SplitBehavior.Isolated, invert: false).Split(piece) : [piece];
        return pieces.Select(ToBytes);
    }

    private static readonly char[] CharOfByte = ByteLevelAlphabet.Encode(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray()).ToCharArray();

    public static AlignedText ToBytes(AlignedText piece)
    {
        Span<byte> bytes = stackalloc byte[4];
        var text = new char[Encoding.UTF8.GetByteCount(piece.Text)];
        var spans = new (int Start, int End)[text.Length];
        int written = 0;
        for (int i = 0; i < piece.Length;)
        {
            Rune.DecodeFromUtf16(piece.Text.AsSpan(i), out var rune, out int length);
            int count = rune.EncodeToUtf8(bytes);
            var span = length == 1 ? piece.Spans[i] : piece.OriginalSpan(i, i + length);
            for (int b = 0; b < count; b++, written++) { text[written] = CharOfByte[bytes[b]]; spans[written] = span; }
            i += length;
        }
        return new AlignedText(new string(text, 0, written), written == spans.Length ? spans : spans[..written], piece.OriginalStart);
    }
}

/// <summary>SentencePiece-style spaces: ' ' becomes "▁", a "▁" is prepended per the scheme, words split before each "▁".</summary>
internal sealed class MetaspacePreTokenizer(string replacement, string prependScheme, bool split) : IPreTokenizer
{
    private readonly Regex replacementPattern = new(Regex.Escape(replacement), RegexOptions.CultureInvariant);

    public static MetaspacePreTokenizer Read(JsonObject o)
    {
        var replacement = o["replacement"]?.GetValue<string>() ?? "▁";
        var scheme = o["prepend_scheme"]?.GetValue<string>()
            ?? (o["add_prefix_space"]?.GetValue<bool>() == false ? "never" : "always");
        return new MetaspacePreTokenizer(replacement, scheme, o["split"]?.GetValue<bool>() ?? true);
    }

    public IEnumerable<AlignedText> Split(AlignedText piece)
    {
        var builder = new AlignedTextBuilder(piece.OriginalStart);
        bool prepend = prependScheme switch { "always" => true, "first" => piece.OriginalStart == 0, _ => false };
        // The library replaces spaces first, then prepends unless the text starts with the replacement or is empty
        // (a normalizer can empty a piece: a Precompiled charsmap removes control characters).
        if (prepend && piece.Length > 0 && !piece.Text.StartsWith(' ') && !piece.Text.StartsWith(replacement)) builder.Append(replacement, piece.OriginalSpan(0, 0));
        for (int i = 0; i < piece.Length; i++)
        {
            if (piece.Text[i] == ' ') builder.Append(replacement, piece.Spans[i]);
            else builder.Copy(piece, i, i + 1);
        }
        var replaced = builder.Build();
        if (!split) return [replaced];
        var matches = PreTokenizers.FindMatches(replacementPattern, replaced.Text, invert: false);
        return PreTokenizers.SplitAt(replaced, matches, SplitBehavior.MergedWithNext);
    }
}
