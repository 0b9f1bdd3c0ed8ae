using System.Text;

namespace TuningService.Worker.Engine.Tokenization.SentencePiece;

/// <summary>Normalized text with, per UTF-16 unit (and one past the end), the index of the original character it came from.</summary>
internal readonly record struct NormalizedText(string Text, int[] ToOriginal)
{
    public static readonly NormalizedText Empty = new("", []);
}

/// <summary>
/// sentencepiece's normalizer (normalizer.cc) for the identity rule: user-defined symbols are kept whole, spaces are
/// escaped to "▁", a dummy "▁" is added before (or, with treat_whitespace_as_suffix, after) the text, and
/// remove_extra_whitespaces trims the ends and collapses runs of spaces. A precompiled character map (nmt_nfkc and
/// the like) is refused: Llama 2, Mistral and Gemma use identity.
/// </summary>
internal sealed class SentencePieceNormalizer
{
    public const char SpaceSymbol = '\u2581';
    private readonly SentencePieceModelProto spec;
    private readonly UserDefinedSymbols userDefined;

    public SentencePieceNormalizer(SentencePieceModelProto spec, UserDefinedSymbols userDefined)
    {
        if (spec.PrecompiledCharsmap.Length > 0)
            throw new NotSupportedException(
                $"tokenizer.model normalizes text with the precompiled character map '{spec.NormalizerName}'; only the 'identity' normalization is supported.");
        this.spec = spec;
        this.userDefined = userDefined;
    }

    public NormalizedText Normalize(string input, bool addDummyPrefix)
    {
        if (input.Length == 0) return NormalizedText.Empty;
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

    /// <summary>The next normalization unit: a user-defined symbol, else one character (an unpaired surrogate reads as U+FFFD).</summary>
    private (string Piece, int Length) NextPiece(string input, int at)
    {
        int symbol = userDefined.MatchLength(input.AsSpan(at));
        if (symbol > 0) return (input.Substring(at, symbol), symbol);
        if (char.IsHighSurrogate(input[at]) && at + 1 < input.Length && char.IsLowSurrogate(input[at + 1])) return (input.Substring(at, 2), 2);
        if (char.IsSurrogate(input[at])) return ("\uFFFD", 1);
        return (input[at].ToString(), 1);
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
