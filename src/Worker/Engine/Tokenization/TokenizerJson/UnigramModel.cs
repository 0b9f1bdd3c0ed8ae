using System.Text;
using System.Text.Json.Nodes;

namespace TuningService.Worker.Engine.Tokenization.TokenizerJson;

/// <summary>
/// Unigram (T5, ALBERT, XLNet tokenizer.json): the segmentation of the word with the highest total piece score
/// (Viterbi), a character with no piece scoring as unk (min score − 10) and consecutive unks fused; with byte_fallback
/// an unk becomes its &lt;0xXX&gt; byte tokens.
/// </summary>
internal sealed class UnigramModel : ITokenModel
{
    private const double UnkPenalty = 10.0;
    private readonly string[] pieces;
    private readonly double[] scores;
    private readonly Dictionary<string, int> idOfPiece = [];
    private readonly int? unkId;
    private readonly bool byteFallback;
    private readonly double unkScore;
    private readonly TrieNode root = new();

    public UnigramModel(JsonObject model)
    {
        var vocab = model["vocab"]!.AsArray();
        pieces = new string[vocab.Count];
        scores = new double[vocab.Count];
        for (int id = 0; id < vocab.Count; id++)
        {
            pieces[id] = vocab[id]![0]!.GetValue<string>();
            scores[id] = vocab[id]![1]!.GetValue<double>();
            idOfPiece.TryAdd(pieces[id], id);
            Insert(pieces[id], id);
        }
        unkId = model["unk_id"]?.GetValue<int?>();
        byteFallback = model["byte_fallback"]?.GetValue<bool>() ?? false;
        unkScore = (scores.Length == 0 ? 0 : scores.Min()) - UnkPenalty;
    }

    public string? IdToToken(int id) => id >= 0 && id < pieces.Length ? pieces[id] : null;

    public IReadOnlyList<ModelToken> Tokenize(string word)
    {
        if (word.Length == 0) return [];
        var tokens = new List<ModelToken>();
        foreach (var (start, end) in BestSegmentation(word))
        {
            var piece = word[start..end];
            if (idOfPiece.TryGetValue(piece, out var id)) { tokens.Add(new ModelToken(id, start, end)); continue; }
            if (byteFallback && ByteTokens(piece) is { } bytes) { tokens.AddRange(bytes.Select(b => new ModelToken(b, start, end))); continue; }
            tokens.Add(new ModelToken(unkId ?? throw new InvalidDataException("The Unigram model has no unk_id for an unknown piece."), start, end));
        }
        return tokens;
    }

    private int[]? ByteTokens(string piece)
    {
        var utf8 = Encoding.UTF8.GetBytes(piece);
        var ids = new int[utf8.Length];
        for (int b = 0; b < utf8.Length; b++)
            if (!idOfPiece.TryGetValue($"<0x{utf8[b]:X2}>", out ids[b])) return null;
        return ids;
    }

    /// <summary>The pieces' ranges on the best path, consecutive unknown characters fused into one range.</summary>
    private List<(int Start, int End)> BestSegmentation(string word)
    {
        int size = word.Length;
        var bestScore = new double[size + 1];
        var startsAt = new int[size + 1];
        var idAt = new int[size + 1];
        Array.Fill(startsAt, -1);
        for (int start = 0; start < size;)
        {
            int charLength = char.IsHighSurrogate(word[start]) && start + 1 < size ? 2 : 1;
            double scoreHere = bestScore[start];
            bool hasSingleCharacter = false;
            var node = root;
            for (int position = start; position < size; position++)
            {
                if (node.Children is null || !node.Children.TryGetValue(word[position], out node)) break;
                if (node.Id < 0) continue;
                int end = position + 1;
                double candidate = scores[node.Id] + scoreHere;
                if (startsAt[end] < 0 || candidate > bestScore[end]) { bestScore[end] = candidate; startsAt[end] = start; idAt[end] = node.Id; }
                if (end - start == charLength) hasSingleCharacter = true;
            }
            if (!hasSingleCharacter)
            {
                int end = start + charLength;
                double candidate = unkScore + scoreHere;
                if (startsAt[end] < 0 || candidate > bestScore[end])
                {
                    bestScore[end] = candidate;
                    startsAt[end] = start;
                    idAt[end] = unkId ?? throw new InvalidDataException("The Unigram model has no unk_id for an unknown character.");
                }
            }
            start += charLength;
        }
        var ranges = new List<(int Start, int End)>();
        int? unkEnd = null;
        for (int end = size; end > 0;)
        {
            int start = startsAt[end];
            if (idAt[end] == unkId) unkEnd ??= end;
            else
            {
                if (unkEnd is { } fusedEnd) { ranges.Add((end, fusedEnd)); unkEnd = null; }
                ranges.Add((start, end));
            }
            end = start;
        }
        if (unkEnd is { } leadingEnd) ranges.Add((0, leadingEnd));
        ranges.Reverse();
        return ranges;
    }

    private void Insert(string piece, int id)
    {
        var node = root;
        foreach (char c in piece)
        {
            node.Children ??= [];
            if (!node.Children.TryGetValue(c, out var child)) node.Children[c] = child = new TrieNode();
            node = child;
        }
        if (node.Id < 0) node.Id = id;
    }

    private sealed class TrieNode
    {
        public Dictionary<char, TrieNode>? Children;
        public int Id = -1;
    }
}
