using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Inference;

/// <summary>
/// The text of one choice as its tokens arrive: decodes incrementally, ends at the first stop string (which is not
/// part of the output), and holds back text that may still turn into a stop string or an unfinished UTF-8 character.
/// </summary>
internal sealed class ChoiceText(TextTokenizer tokenizer, IReadOnlyList<string> stops)
{
    private readonly List<int> ids = [];
    private string text = "";
    private int emitted;

    /// <summary>A stop string matched: the sequence should stop and the text is final.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds a token; returns the text that can now be sent.</summary>
    public string Add(int id)
    {
        ids.Add(id);
        text = tokenizer.Decode(ids);
        int cut = stops.Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (cut >= 0)
        {
            text = text[..Math.Max(cut, Math.Min(emitted, text.Length))];
            Stopped = true;
            return Take(text.Length);
        }
        int safe = text.TrimEnd('\uFFFD').Length, hold = 0;
        foreach (var stop in stops)
            for (int k = Math.Min(stop.Length - 1, safe); k > hold; k--)
                if (string.CompareOrdinal(text, safe - k, stop, 0, k) == 0) { hold = k; break; }
        safe -= hold;
        return Take(safe);
    }

    /// <summary>Everything not yet sent (the sequence ended).</summary>
    public string Flush() => Take(text.Length);

    public string Text => text;

    private string Take(int upTo)
    {
        if (upTo <= emitted) return "";
        var delta = text[emitted..upTo];
        emitted = upTo;
        return delta;
    }
}
