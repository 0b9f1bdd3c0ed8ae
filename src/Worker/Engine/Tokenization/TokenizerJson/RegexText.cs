using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace TuningService.Worker.Engine.Tokenization.TokenizerJson;

/// <summary>
/// .NET regexes see a character outside the BMP as two surrogates (category Cs), where the Rust regex crate sees one
/// code point with its own category (\p{L} for "𝒜" or "𠀀", \p{N}{1,3} counting "𝟏" once). Matching therefore runs on
/// a copy where each surrogate pair is one BMP character of the same general category, and match positions are mapped
/// back to the text's own indices.
/// </summary>
internal static class RegexText
{
    private static readonly char[] RepresentativeOf = Representatives();

    /// <summary>The regex's matches in <paramref name="text"/> as (Index, Length) in the text's own UTF-16 indices.</summary>
    public static IEnumerable<(int Index, int Length)> Matches(Regex regex, string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF'))
        {
            foreach (Match m in regex.Matches(text)) yield return (m.Index, m.Length);
            yield break;
        }
        var compact = new StringBuilder(text.Length);
        var originalIndex = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            originalIndex.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])
                && RepresentativeOf[(int)Rune.GetUnicodeCategory(new Rune(text[i], text[i + 1]))] is var representative and not '\0')
            {
                compact.Append(representative);
                i++;
            }
            else compact.Append(text[i]);
        }
        originalIndex.Add(text.Length);
        foreach (Match m in regex.Matches(compact.ToString()))
            yield return (originalIndex[m.Index], originalIndex[m.Index + m.Length] - originalIndex[m.Index]);
    }

    /// <summary>For each category, an uncommon BMP character of it (searched from the top of the BMP down), or '\0'.</summary>
    private static char[] Representatives()
    {
        var representatives = new char[32];
        for (int c = 0xFFFD; c >= 0x100; c--)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            int category = (int)CharUnicodeInfo.GetUnicodeCategory((char)c);
            if (representatives[category] == '\0') representatives[category] = (char)c;
        }
        return representatives;
    }
}
