using System.Text;

namespace TuningService.Worker.Engine.Tokenization.SentencePiece;

/// <summary>Normalized text with, per UTF-16 unit (and one past the end), the index of the original character it came from.</summary>
internal readonly record struct NormalizedText(string Text, int[] ToOriginal)
{
    public static readonly NormalizedText Empty = new("", []);
}

/// <summary>
/// sentencepiece's normalizer (normalizer.cc): user-defined symbols are kept whole, the precompiled character map's
/// rules (nmt_nfkc and the like; none for identity, which Llama 2, Mistral and Gemma use) rewrite the longest key at
/// each position, spaces are escaped to "▁", a dummy "▁" is added before (or, with treat_whitespace_as_suffix, after)
/// the text, and remove_extra_whitespaces trims the ends and collapses runs of spaces.
/// </summary>
internal sealed class SentencePieceNormalizer
{
    public const char SpaceSymbol = '\u2581';
    private readonly SentencePieceModelProto spec;
    private readonly UserDefinedSymbols userDefined;
    private readonly PrecompiledCharsMap? rules;

    public SentencePieceNormalizer(SentencePieceModelProto spec, UserDefinedSymbols userDefined)
    {
        this.spec = spec;
        this.userDefined = userDefined;
        if (spec.PrecompiledCharsmap.Length > 0) rules = new PrecompiledCharsMap(spec.PrecompiledCharsmap);
    }

    public NormalizedText Normalize(string input, bool addDummyPrefix)
    {
        if (input.Length == 0) return NormalizedText.Empty;
        var utf8 = rules is null ? null : new Utf8Text(input);
        (string Piece, int Length) NextPiece(string text, int at) => Next(text, at, utf8);
        int consumed = 0;
        if (spec.RemoveExtraWhitespaces)
        {
            while (consumed < input.Length)
            {
                var (piece, length) = NextPiece(input, consumed);
                if (piece != " ") break;
                consumed += length;
            }
            if (consumed == input.Length) return NormalizedText.Empty;
        }

        var text = new StringBuilder(input.Length + 2);
        var toOriginal = new List<int>(input.Length + 3);
        void Append(char c)
        {
            text.Append(spec.EscapeWhitespaces && c == ' ' ? SpaceSymbol : c);
            toOriginal.Add(consumed);
        }

        if (addDummyPrefix && !spec.TreatWhitespaceAsSuffix) Append(' ');
        bool previousIsSpace = spec.RemoveExtraWhitespaces;
        while (consumed < input.Length)
        {
            var (piece, length) = NextPiece(input, consumed);
            int from = 0;
            while (previousIsSpace && from < piece.Length && piece[from] == ' ') from++; // a run of spaces keeps its first
            if (from < piece.Length)
            {
                for (int i = from; i < piece.Length; i++) Append(piece[i]);
                previousIsSpace = piece[^1] == ' ';
            }
            consumed += length;
            if (!spec.RemoveExtraWhitespaces) previousIsSpace = false;
        }

        if (spec.RemoveExtraWhitespaces)
        {
            char space = spec.EscapeWhitespaces ? SpaceSymbol : ' ';
            while (text.Length > 0 && text[^1] == space)
            {
                consumed = toOriginal[^1];
                text.Length--;
                toOriginal.RemoveAt(toOriginal.Count - 1);
            }
        }
        if (addDummyPrefix && spec.TreatWhitespaceAsSuffix) Append(' ');
        toOriginal.Add(consumed);
        return new NormalizedText(text.ToString(), toOriginal.ToArray());
    }

    /// <summary>
    /// The next normalization unit and the characters it consumes: a user-defined symbol as it is, else the replacement
    /// of the longest rule, else one character (an unpaired surrogate reads as U+FFFD).
    /// </summary>
    private (string Piece, int Length) Next(string input, int at, Utf8Text? utf8)
    {
        int symbol = userDefined.MatchLength(input.AsSpan(at));
        if (symbol > 0) return (input.Substring(at, symbol), symbol);
        if (rules is not null && utf8 is not null)
        {
            var (bytes, replacement) = rules.LongestMatch(utf8.From(at));
            if (bytes > 0) return (replacement, utf8.CharactersIn(at, bytes));
        }
        if (char.IsHighSurrogate(input[at]) && at + 1 < input.Length && char.IsLowSurrogate(input[at + 1])) return (input.Substring(at, 2), 2);
        if (char.IsSurrogate(input[at])) return ("\uFFFD", 1);
        return (input[at].ToString(), 1);
    }
}

/// <summary>A text's UTF-8 bytes (an unpaired surrogate as U+FFFD's) with the byte offset of each character.</summary>
internal sealed class Utf8Text
{
    private readonly byte[] bytes;
    private readonly int[] byteOffset;   // per UTF-16 unit; -1 inside a surrogate pair

    public Utf8Text(string text)
    {
        bytes = Encoding.UTF8.GetBytes(text);
        byteOffset = new int[text.Length + 1];
        int at = 0;
        for (int i = 0; i < text.Length; i++)
        {
            byteOffset[i] = at;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                byteOffset[++i] = -1;
                at += 4;
            }
            else at += text[i] < 0x80 ? 1 : text[i] < 0x800 ? 2 : 3;
        }
        byteOffset[text.Length] = at;
    }

    public ReadOnlySpan<byte> From(int character) => bytes.AsSpan(byteOffset[character]);

    /// <summary>How many UTF-16 units from <paramref name="character"/> the next <paramref name="count"/> bytes cover.</summary>
    public int CharactersIn(int character, int count)
    {
        int end = character + 1, target = byteOffset[character] + count;
        while (end < byteOffset.Length - 1 && (byteOffset[end] == -1 || byteOffset[end] < target)) end++;
        return end - character;
    }
}

/// <summary>The model's user-defined symbols, matched longest first wherever they occur (sentencepiece's PrefixMatcher).</summary>
internal sealed class UserDefinedSymbols
{
    private readonly Dictionary<char, string[]> byFirstChar;

    public UserDefinedSymbols(IEnumerable<string> symbols)
        => byFirstChar = symbols.GroupBy(s => s[0]).ToDictionary(g => g.Key, g => g.OrderByDescending(s => s.Length).ToArray());

    /// <summary>Length of the longest symbol <paramref name="text"/> starts with, 0 when none.</summary>
    public int MatchLength(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || !byFirstChar.TryGetValue(text[0], out var candidates)) return 0;
        foreach (var symbol in candidates)
            if (text.StartsWith(symbol, StringComparison.Ordinal)) return symbol.Length;
        return 0;
    }
}
