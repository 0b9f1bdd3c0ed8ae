namespace TuningService.Worker.Engine.Tokenization.SentencePiece;

/// <summary>
/// sentencepiece's BPE encoding (bpe_model.cc): start from characters (user-defined symbols whole and never merged),
/// repeatedly merge the adjacent pair whose joined piece has the highest score (equal scores: the leftmost pair
/// first), then split every unused piece back into the two pieces it was merged from.
/// </summary>
internal sealed class BpeSegmenter(SentencePieceModel model)
{
    private readonly record struct Candidate(int Left, int Right, int Length);

    /// <summary>Higher score first; equal scores: smaller left position first.</summary>
    private sealed class ByScoreThenPosition : IComparer<(float Score, int Left)>
    {
        public static readonly ByScoreThenPosition Instance = new();
        public int Compare((float Score, int Left) a, (float Score, int Left) b)
            => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Left.CompareTo(b.Left);
    }

    public List<(int Start, int Length, int Id)> Segment(string text)
    {
        var start = new List<int>();
        var length = new List<int>();
        var frozen = new List<bool>();
        for (int at = 0; at < text.Length;)
        {
            int symbol = model.UserDefined.MatchLength(text.AsSpan(at));
            int size = symbol > 0 ? symbol : char.IsHighSurrogate(text[at]) && at + 1 < text.Length && char.IsLowSurrogate(text[at + 1]) ? 2 : 1;
            start.Add(at);
            length.Add(size);
            frozen.Add(symbol > 0);
            at += size;
        }
        int count = start.Count;
        var prev = Enumerable.Range(-1, count).ToArray();
        var next = Enumerable.Range(1, count).Select(i => i == count ? -1 : i).ToArray();
        var agenda = new PriorityQueue<Candidate, (float, int)>(ByScoreThenPosition.Instance);
        var splits = new Dictionary<string, (string Left, string Right)>(StringComparer.Ordinal); // unused piece → its halves

        void Consider(int left, int right)
        {
            if (left < 0 || right < 0 || frozen[left] || frozen[right]) return;
            var joined = text.AsSpan(start[left], length[left] + length[right]);
            if (!model.TryModelPiece(joined, out var id)) return;
            agenda.Enqueue(new Candidate(left, right, joined.Length), (model[id].Score, left));
            if (model[id].Type == PieceType.Unused)
                splits[joined.ToString()] = (text.Substring(start[left], length[left]), text.Substring(start[right], length[right]));
        }

        for (int i = 1; i < count; i++) Consider(i - 1, i);
        while (agenda.TryDequeue(out var top, out _))
        {
            // Stale: one side was merged away or has grown since the pair was queued.
            if (length[top.Left] == 0 || length[top.Right] == 0 || length[top.Left] + length[top.Right] != top.Length) continue;
            length[top.Left] += length[top.Right];
            next[top.Left] = next[top.Right];
            if (next[top.Right] >= 0) prev[next[top.Right]] = top.Left;
            length[top.Right] = 0;
            Consider(prev[top.Left], top.Left);
            Consider(top.Left, next[top.Left]);
        }

        var output = new List<(int Start, int Length, int Id)>();
        void Resegment(int at, string piece)
        {
            int id = model.PieceToId(piece);
            if (model[id].Type == PieceType.Unused && splits.TryGetValue(piece, out var halves))
            {
                Resegment(at, halves.Left);
                Resegment(at + halves.Left.Length, halves.Right);
                return;
            }
            output.Add((at, piece.Length, id));
        }
        for (int i = count > 0 ? 0 : -1; i >= 0; i = next[i]) Resegment(start[i], text.Substring(start[i], length[i]));
        return output;
    }
}
