using System.Text;

namespace TuningService.Worker.Engine.Tokenization.TokenizerJson;

/// <summary>
/// Unicode normalization forms NFC, NFD, NFKC and NFKD (UAX #15) from embedded Unicode data: the service runs with
/// invariant globalization, where <see cref="string.Normalize()"/> returns its input unchanged.
/// </summary>
internal static class UnicodeNormalization
{
    private const int HangulBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, LCount = 19, VCount = 21, TCount = 28;
    private const int NCount = VCount * TCount, SCount = LCount * NCount;
    private static readonly Dictionary<int, byte> CombiningClass = [];
    private static readonly Dictionary<int, (bool Compatibility, int[] Mapping)> Decompositions = [];
    private static readonly Dictionary<(int, int), int> Compositions = [];
    private static readonly HashSet<int> CompositionSeconds = [];

    static UnicodeNormalization()
    {
        using var stream = typeof(UnicodeNormalization).Assembly.GetManifestResourceStream("TuningService.Worker.unicode-normalization.txt")
            ?? throw new InvalidOperationException("The embedded Unicode normalization data is missing.");
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int colon = line.IndexOf(':'), equals = line.IndexOf('=');
            if (colon > 0) { CombiningClass[Convert.ToInt32(line[..colon], 16)] = byte.Parse(line[(colon + 1)..]); continue; }
            int codePoint = Convert.ToInt32(line[..equals], 16);
            char kind = line[equals + 1];
            var mapping = line[(equals + 3)..].Split(' ').Select(h => Convert.ToInt32(h, 16)).ToArray();
            Decompositions[codePoint] = (kind == 'k', mapping);
            if (kind == 'c' && mapping.Length == 2) Compositions[(mapping[0], mapping[1])] = codePoint;
        }
        foreach (var (_, second) in Compositions.Keys) CompositionSeconds.Add(second);
    }

    public static int CombiningClassOf(int codePoint) => CombiningClass.TryGetValue(codePoint, out var c) ? c : 0;

    public static string Normalize(string text, bool compose, bool compatibility)
    {
        if (Ascii.IsValid(text)) return text;
        var decomposed = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes()) Decompose(rune.Value, compatibility, decomposed);
        SortCombiningMarks(decomposed);
        if (compose) Compose(decomposed);
        var builder = new StringBuilder(decomposed.Count);
        foreach (var codePoint in decomposed) builder.Append(char.ConvertFromUtf32(codePoint));
        return builder.ToString();
    }

    /// <summary>Whether this code point can join the character before it (a boundary before it is not safe).</summary>
    public static bool IsCompositionSecond(int codePoint) => CompositionSeconds.Contains(codePoint);

    private static void Decompose(int codePoint, bool compatibility, List<int> output)
    {
        if (codePoint is >= HangulBase and < HangulBase + SCount)
        {
            int index = codePoint - HangulBase;
            output.Add(LBase + index / NCount);
            output.Add(VBase + index % NCount / TCount);
            if (index % TCount != 0) output.Add(TBase + index % TCount);
            return;
        }
        if (Decompositions.TryGetValue(codePoint, out var d) && (compatibility || !d.Compatibility))
            foreach (var part in d.Mapping) Decompose(part, compatibility, output);
        else output.Add(codePoint);
    }

    /// <summary>Canonical ordering: each run of combining marks stably sorted by combining class.</summary>
    private static void SortCombiningMarks(List<int> codePoints)
    {
        for (int i = 1; i < codePoints.Count; i++)
        {
            int cc = CombiningClassOf(codePoints[i]);
            if (cc == 0) continue;
            for (int j = i; j > 0 && CombiningClassOf(codePoints[j - 1]) > cc; j--)
                (codePoints[j - 1], codePoints[j]) = (codePoints[j], codePoints[j - 1]);
        }
    }

    /// <summary>Canonical composition: each character joins the last starter unless a character between blocks it.</summary>
    private static void Compose(List<int> codePoints)
    {
        var output = new List<int>(codePoints.Count);
        int starter = -1, lastClass = 0;
        foreach (var codePoint in codePoints)
        {
            int cc = CombiningClassOf(codePoint);
            bool adjacent = starter == output.Count - 1;
            if (starter >= 0 && (adjacent || lastClass != 0 && lastClass < cc) && ComposePair(output[starter], codePoint) is { } composite)
            {
                output[starter] = composite;
                continue;
            }
            if (cc == 0) { starter = output.Count; lastClass = 0; }
            else lastClass = cc;
            output.Add(codePoint);
        }
        codePoints.Clear();
        codePoints.AddRange(output);
    }

    private static int? ComposePair(int first, int second)
    {
        if (first is >= LBase and < LBase + LCount && second is >= VBase and < VBase + VCount)
            return HangulBase + ((first - LBase) * VCount + second - VBase) * TCount;
        if (first is >= HangulBase and < HangulBase + SCount && (first - HangulBase) % TCount == 0 && second is > TBase and < TBase + TCount)
            return first + second - TBase;
        return Compositions.TryGetValue((first, second), out var composite) ? composite : null;
    }
}
