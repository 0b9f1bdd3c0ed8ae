using TuningService.Domain.Datasets;

namespace TuningService.Worker.Engine.Chat;

/// <summary>
/// Where each assistant message lies in a rendered conversation, as character spans [Start, End) — the loss mask is
/// taken from these, never from tokenizing pieces. Templates transform contents (trim, reasoning blocks, system
/// prompts moved into a user turn), so a content is not searched for: the conversation is rendered again with that one
/// content replaced by a marker, and the span is what differs between the two renderings. The span then takes in the
/// end-of-turn special token that directly follows the content (or follows it after whitespace when it is EOS), as
/// TRL's assistant-only loss trains the turn's end.
/// </summary>
public static class AssistantSpans
{
    // A private-use character: no template trims or tests it, and no real content is made of it alone.
    private const string Marker = "\uE000";

    /// <summary>One span per assistant message of <paramref name="messages"/>, in order.</summary>
    public static List<(int Start, int End)> Locate(string rendered, IReadOnlyList<ChatMessage> messages,
        Func<IReadOnlyList<ChatMessage>, string> render, IReadOnlyCollection<string> specialTokens, string? eosToken)
    {
        var spans = new List<(int Start, int End)>();
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i].Role != ChatMessage.Assistant) continue;
            var probe = messages.Select((m, j) => j == i ? m with { Content = Marker } : m).ToList();
            var other = render(probe);
            int prefix = CommonPrefix(rendered, other);
            int suffix = CommonSuffix(rendered, other, Math.Min(rendered.Length, other.Length) - prefix);
            int start = prefix, end = rendered.Length - suffix;
            spans.Add((start, EndOfTurn(rendered, end, specialTokens, eosToken)));
        }
        return spans;
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
