using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;

namespace TuningService.Worker.Engine.Tokenization.TokenizerJson;

/// <summary>A token the model made from a word: its id and the UTF-16 range [Start, End) of the word it covers.</summary>
internal readonly record struct ModelToken(int Id, int Start, int End);

/// <summary>The "model" of a tokenizer.json: turns one pre-tokenized word into tokens.</summary>
internal interface ITokenModel
{
    IReadOnlyList<ModelToken> Tokenize(string word);
    string? IdToToken(int id);
}

/// <summary>
/// Byte-pair encoding as the Rust library does it: the word's characters (or their &lt;0xXX&gt; bytes, or unk) merged
/// pair by pair, always the lowest-ranked merge first and the leftmost among equals. Words are cached.
/// </summary>
internal sealed class BpeModel : ITokenModel
{
    private const int CacheCapacity = 10_000;
    private readonly Dictionary<string, int> vocab;
    private readonly string[] tokenOfId;
    private readonly Dictionary<(int Left, int Right), (int Rank, int Merged)> merges = [];
    private readonly string? unkToken;
    private readonly string? continuingSubwordPrefix;
    private readonly string? endOfWordSuffix;
    private readonly bool fuseUnk;
    private readonly bool byteFallback;
    private readonly bool ignoreMerges;
    private readonly ConcurrentDictionary<string, ModelToken[]> cache = new();

    public BpeModel(JsonObject model)
    {
        vocab = model["vocab"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>());
        tokenOfId = new string[vocab.Count == 0 ? 0 : vocab.Values.Max() + 1];
        foreach (var (token, id) in vocab) tokenOfId[id] = token;
        unkToken = model["unk_token"]?.GetValue<string>();
        continuingSubwordPrefix = model["continuing_subword_prefix"]?.GetValue<string>();
        endOfWordSuffix = model["end_of_word_suffix"]?.GetValue<string>();
        fuseUnk = model["fuse_unk"]?.GetValue<bool>() ?? false;
        byteFallback = model["byte_fallback"]?.GetValue<bool>() ?? false;
        ignoreMerges = model["ignore_merges"]?.GetValue<bool>() ?? false;
        if (model["dropout"]?.GetValue<double?>() is > 0) throw new NotSupportedException("BPE dropout is not supported: tokenization must be deterministic.");
        int rank = 0;
        foreach (var merge in model["merges"] as JsonArray ?? [])
        {
            var (left, right) = merge is JsonArray pair ? (pair[0]!.GetValue<string>(), pair[1]!.GetValue<string>()) : SplitMerge(merge!.GetValue<string>());
            var rightPart = continuingSubwordPrefix is not null && right.StartsWith(continuingSubwordPrefix, StringComparison.Ordinal) ? right[continuingSubwordPrefix.Length..] : right;
            if (!vocab.TryGetValue(left, out var leftId) || !vocab.TryGetValue(right, out var rightId) || !vocab.TryGetValue(left + rightPart, out var merged))
                throw new InvalidDataException($"The BPE merge '{left} {right}' uses a token missing from the vocabulary.");
            merges.TryAdd((leftId, rightId), (rank++, merged));
        }
    }

    public string? IdToToken(int id) => id >= 0 && id < tokenOfId.Length ? tokenOfId[id] : null;

    public IReadOnlyList<ModelToken> Tokenize(string word)
    {
        if (word.Length == 0) return [];
        if (ignoreMerges && vocab.TryGetValue(word, out var whole)) return [new ModelToken(whole, 0, word.Length)];
        if (cache.TryGetValue(word, out var cached)) return cached;
        var tokens = Merge(Symbols(word));
        if (cache.Count < CacheCapacity) cache.TryAdd(word, tokens);
        return tokens;
    }

    private static (string, string) SplitMerge(string line)
    {
        var parts = line.Split(' ');
        if (parts.Length != 2) throw new InvalidDataException($"The BPE merge '{line}' is not two tokens separated by a space.");
        return (parts[0], parts[1]);
    }

    /// <summary>The word's starting symbols: one per character, else its byte tokens, else unk (fused when asked).</summary>
    private List<ModelToken> Symbols(string word)
    {
        var symbols = new List<ModelToken>();
        ModelToken? unk = null;
        Span<byte> bytes = stackalloc byte[4];
        for (int i = 0; i < word.Length;)
        {
            Rune.DecodeFromUtf16(word.AsSpan(i), out var rune, out int length);
            int end = i + length;
            var s = word.Substring(i, length);
            if (i > 0 && continuingSubwordPrefix is not null) s = continuingSubwordPrefix + s;
            if (end == word.Length && endOfWordSuffix is not null) s += endOfWordSuffix;
            if (vocab.TryGetValue(s, out var id))
            {
                if (unk is { } pending) { symbols.Add(pending); unk = null; }
                symbols.Add(new ModelToken(id, i, end));
            }
            else if (byteFallback && ByteTokens(s) is { } byteIds)
            {
                symbols.AddRange(byteIds.Select(b => new ModelToken(b, i, end)));
            }
            else if (unkToken is not null)
            {
                int unkId = vocab.TryGetValue(unkToken, out var u) ? u : throw new InvalidDataException($"The unk token '{unkToken}' is not in the vocabulary.");
                if (unk is { } pending && fuseUnk) unk = pending with { End = end };
                else
                {
                    if (unk is { } previous) symbols.Add(previous);
                    unk = new ModelToken(unkId, i, end);
                }
            }
            i = end;
        }
        if (unk is { } last) symbols.Add(last);
        return symbols;

        int[]? ByteTokens(string s)
        {
            var utf8 = Encoding.UTF8.GetBytes(s);
            var ids = new int[utf8.Length];
            for (int b = 0; b < utf8.Length; b++)
                if (!vocab.TryGetValue($"<0x{utf8[b]:X2}>", out ids[b])) return null;
            return ids;
        }
    }

    private ModelToken[] Merge(List<ModelToken> symbols)
    {
        int count = symbols.Count;
        var prev = new int[count];
        var next = new int[count];
        var alive = new bool[count];
        var items = symbols.ToArray();
        for (int i = 0; i < count; i++) { prev[i] = i - 1; next[i] = i + 1 < count ? i + 1 : -1; alive[i] = true; }
        var queue = new PriorityQueue<(int Position, int Merged), (int Rank, int Position)>();
        for (int i = 0; i + 1 < count; i++)
            if (merges.TryGetValue((items[i].Id, items[i + 1].Id), out var m)) queue.Enqueue((i, m.Merged), (m.Rank, i));
        while (queue.TryDequeue(out var top, out _))
        {
            int position = top.Position;
            if (!alive[position] || next[position] == -1) continue;
            int right = next[position];
            if (!merges.TryGetValue((items[position].Id, items[right].Id), out var current) || current.Merged != top.Merged) continue;
            items[position] = new ModelToken(top.Merged, items[position].Start, items[right].End);
            alive[right] = false;
            next[position] = next[right];
            if (next[right] != -1) prev[next[right]] = position;
            if (prev[position] >= 0 && merges.TryGetValue((items[prev[position]].Id, items[position].Id), out var left))
                queue.Enqueue((prev[position], left.Merged), (left.Rank, prev[position]));
            if (next[position] != -1 && merges.TryGetValue((items[position].Id, items[next[position]].Id), out var after))
                queue.Enqueue((position, after.Merged), (after.Rank, position));
        }
        var result = new List<ModelToken>(count);
        for (int i = 0; i < count; i++) if (alive[i]) result.Add(items[i]);
        return result.ToArray();
    }
}
