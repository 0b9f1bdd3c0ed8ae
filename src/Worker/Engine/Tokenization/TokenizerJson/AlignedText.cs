using System.Text;

namespace TuningService.Worker.Engine.Tokenization.TokenizerJson;

/// <summary>
/// Text being normalized or pre-tokenized, with, for each of its UTF-16 units, the span [Start, End) of the original
/// text it came from. Inserted characters (a prepended "▁") have an empty span where they were inserted, so a token's
/// offsets are always a range of the original text however much normalization changed the length.
/// </summary>
internal sealed class AlignedText
{
    public AlignedText(string text, (int Start, int End)[] spans, int originalStart)
    {
        Text = text;
        Spans = spans;
        OriginalStart = originalStart;
    }

    public string Text { get; }
    public (int Start, int End)[] Spans { get; }
    /// <summary>Where this text starts in the original (Metaspace's "first" scheme prepends only at 0).</summary>
    public int OriginalStart { get; }
    public int Length => Text.Length;

    public static AlignedText FromOriginal(string original, int start, int end)
    {
        var spans = new (int, int)[end - start];
        for (int i = 0; i < spans.Length; i++) spans[i] = (start + i, start + i + 1);
        return new AlignedText(original[start..end], spans, start);
    }

    /// <summary>The original span of units [from, to): from the first unit's start to the last one's end.</summary>
    public (int Start, int End) OriginalSpan(int from, int to)
    {
        if (from >= to) return from < Spans.Length ? (Spans[from].Start, Spans[from].Start) : (OriginalEnd, OriginalEnd);
        int start = int.MaxValue, end = int.MinValue;
        for (int i = from; i < to; i++)
        {
            start = Math.Min(start, Spans[i].Start);
            end = Math.Max(end, Spans[i].End);
        }
        return (start, end);
    }

    public int OriginalEnd => Spans.Length == 0 ? OriginalStart : Spans.Max(s => s.End);

    public AlignedText Slice(int from, int to)
        => new(Text[from..to], Spans[from..to], from < Spans.Length ? Spans[from].Start : OriginalEnd);

    /// <summary>Each code point of the text with its UTF-16 index and length.</summary>
    public IEnumerable<(Rune Rune, int Index, int Length)> Runes()
    {
        for (int i = 0; i < Text.Length;)
        {
            Rune.DecodeFromUtf16(Text.AsSpan(i), out var rune, out int length);
            yield return (rune, i, length);
            i += length;
        }
    }
}

/// <summary>Builds an <see cref="AlignedText"/> piece by piece, each piece carrying the original span it stands for.</summary>
internal sealed class AlignedTextBuilder(int originalStart)
{
    private readonly StringBuilder text = new();
    private readonly List<(int Start, int End)> spans = [];

    public void Append(string piece, (int Start, int End) span)
    {
        text.Append(piece);
        for (int i = 0; i < piece.Length; i++) spans.Add(span);
    }

    /// <summary>Copies units [from, to) of <paramref name="source"/> with their own spans.</summary>
    public void Copy(AlignedText source, int from, int to)
    {
        text.Append(source.Text, from, to - from);
        for (int i = from; i < to; i++) spans.Add(source.Spans[i]);
    }

    public AlignedText Build() => new(text.ToString(), spans.ToArray(), originalStart);
}
