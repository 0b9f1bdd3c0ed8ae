using TuningService.Domain.Datasets;

namespace TuningService.Worker.Engine.Chat;

/// <summary>
/// Where each assistant message lies in a rendered conversation, as character spans [Start, End) — the loss mask is
/// taken from these, never from tokenizing pieces. Templates transform contents (trim, reasoning blocks, system
/// prompts moved into a user turn), so contents are not searched for: the conversation is rendered again with every
/// assistant content replaced by a marker of its own, and the text between markers must match the real rendering
/// around each content (one extra render). When it does not (a template whose text depends on the contents), each
/// content alone is replaced in turn and its span is what differs between the two renderings. The span then takes in
/// the end-of-turn special token that directly follows the content (or follows it after whitespace when it is EOS), as
/// TRL's assistant-only loss trains the turn's end.
/// </summary>
public static class AssistantSpans
{
    // Private-use characters: no template trims or tests them, and no real content is made of them alone.
    private const char MarkerStart = '\uE000', MarkerEnd = '\uE001';

    /// <summary>One span per assistant message of <paramref name="messages"/>, in order.</summary>
    public static List<(int Start, int End)> Locate(string rendered, IReadOnlyList<ChatMessage> messages,
        Func<IReadOnlyList<ChatMessage>, string> render, IReadOnlyCollection<string> specialTokens, string? eosToken)
    {
        var assistants = Enumerable.Range(0, messages.Count).Where(i => messages[i].Role == ChatMessage.Assistant).ToList();
        var spans = Aligned(rendered, messages, assistants, render) ?? assistants.Select(i => Differing(rendered, messages, i, render)).ToList();
        return spans.Select(s => (s.Start, EndOfTurn(rendered, s.End, specialTokens, eosToken))).ToList();
    }

    /// <summary>All contents marked in one rendering; null when its text between markers does not frame the real contents.</summary>
    private static List<(int Start, int End)>? Aligned(string rendered, IReadOnlyList<ChatMessage> messages, List<int> assistants,
        Func<IReadOnlyList<ChatMessage>, string> render)
    {
        if (assistants.Count == 0) return [];
        var marked = render(messages.Select((m, i) => assistants.Contains(i) ? m with { Content = $"{MarkerStart}{assistants.IndexOf(i)}{MarkerEnd}" } : m).ToList());
        var literals = new List<string>();                                 // the template's text around the n markers: n + 1 pieces
        int from = 0;
        for (int k = 0; k < assistants.Count; k++)
        {
            int at = marked.IndexOf($"{MarkerStart}{k}{MarkerEnd}", from, StringComparison.Ordinal);
            if (at < 0) return null;                                       // a content the template did not render verbatim
            literals.Add(marked[from..at]);
            from = at + $"{MarkerStart}{k}{MarkerEnd}".Length;
        }
        literals.Add(marked[from..]);
        if (!rendered.StartsWith(literals[0], StringComparison.Ordinal) || !rendered.EndsWith(literals[^1], StringComparison.Ordinal)) return null;

        var spans = new List<(int Start, int End)>();
        int position = literals[0].Length;
        for (int k = 1; k < literals.Count; k++)
        {
            bool last = k == literals.Count - 1;
            if (literals[k].Length == 0 && !last) return null;             // nothing between two contents to tell them apart
            int end = last ? rendered.Length - literals[k].Length : rendered.IndexOf(literals[k], position, StringComparison.Ordinal);
            if (end < position) return null;
            spans.Add((position, end));
            position = end + literals[k].Length;
        }
        return spans;
    }

    /// <summary>The span of one content: what differs when it alone is replaced by a marker.</summary>
    private static (int Start, int End) Differing(string rendered, IReadOnlyList<ChatMessage> messages, int index, Func<IReadOnlyList<ChatMessage>, string> render)
    {
        var other = render(messages.Select((m, j) => j == index ? m with { Content = MarkerStart.ToString() } : m).ToList());
        int prefix = CommonPrefix(rendered, other);
        int suffix = CommonSuffix(rendered, other, Math.Min(rendered.Length, other.Length) - prefix);
        return (prefix, rendered.Length - suffix);
    }

    private static int EndOfTurn(string text, int end, IReadOnlyCollection<string> specialTokens, string? eosToken)
    {
        string? Special(int at) => specialTokens.Where(t => t.Length > 0 && string.CompareOrdinal(text, at, t, 0, t.Length) == 0).MaxBy(t => t.Length);
        if (Special(end) is string direct) return end + direct.Length;
        int after = end;
        while (after < text.Length && char.IsWhiteSpace(text[after])) after++;
        return after > end && eosToken is not null && Special(after) == eosToken ? after + eosToken.Length : end;
    }

    private static int CommonPrefix(string a, string b)
    {
        int n = 0, max = Math.Min(a.Length, b.Length);
        while (n < max && a[n] == b[n]) n++;
        return n;
    }

    private static int CommonSuffix(string a, string b, int max)
    {
        int n = 0;
        while (n < max && a[^(n + 1)] == b[^(n + 1)]) n++;
        return n;
    }
}
