namespace TuningService.Domain.Datasets;

/// <summary>
/// Gathers what the teaching warnings need in bounded memory: 64-bit hashes of examples and prompts in sets capped
/// at <c>hashCap</c> entries each (past the cap new hashes are checked, not remembered, so counts are lower bounds),
/// a log-scale length histogram of 128 buckets, and at most <see cref="MaxLabels"/> distinct short completions.
/// </summary>
internal sealed class DatasetStatistics(int hashCap)
{
    /// <summary>Completions up to this many characters (trimmed) count as labels of a classification-like dataset.</summary>
    public const int ShortCompletionChars = 32;
    public const int MaxLabels = 64;
    private const int Buckets = 128;

    private readonly HashSet<ulong> _examples = [];
    private readonly Dictionary<ulong, ulong> _completionByPrompt = [];
    private readonly long[] _lengthHistogram = new long[Buckets];
    private readonly Dictionary<string, long> _labels = [];
    private long _observed, _duplicates, _conflicts, _withCompletion, _shortCompletions, _longest, _longestLine;
    private bool _tooManyLabels;

    public void Observe(DatasetExample example, long line)
    {
        _observed++;
        var (prompt, completion, other) = Parts(example);
        var promptHash = Hash(prompt);
        var exampleHash = Fnv.Combine(Fnv.Combine(promptHash, Hash(completion)), Hash(other));
        if (_examples.Contains(exampleHash)) _duplicates++;
        else if (_examples.Count < hashCap) _examples.Add(exampleHash);

        var length = Length(prompt) + Length(completion) + Length(other);
        _lengthHistogram[Bucket(length)]++;
        if (length > _longest) (_longest, _longestLine) = (length, line);

        if (completion is null || example is PreferenceExample) return;
        var completionText = completion[0];
        var completionHash = Hash(completion);
        if (_completionByPrompt.TryGetValue(promptHash, out var seen)) { if (seen != completionHash) _conflicts++; }
        else if (_completionByPrompt.Count < hashCap) _completionByPrompt[promptHash] = completionHash;

        _withCompletion++;
        if (completionText.Trim().Length > ShortCompletionChars) return;
        _shortCompletions++;
        if (_labels.TryGetValue(completionText, out var count)) _labels[completionText] = count + 1;
        else if (_labels.Count < MaxLabels) _labels[completionText] = 1;
        else _tooManyLabels = true;
    }

    public IReadOnlyList<DatasetWarning> Warnings(string format, long examples)
    {
        var warnings = new List<DatasetWarning>();
        var recommended = DatasetFormat.RecommendedMinimum(format);
        if (examples < recommended)
            warnings.Add(new(DatasetCodes.FewExamples,
                $"Only {examples} examples. {Advice(format)} Fewer than {recommended} rarely moves a model beyond memorising them.",
                examples, new Dictionary<string, object> { ["recommended_minimum"] = recommended }));
        if (_duplicates > 0)
            warnings.Add(new(DatasetCodes.DuplicateExamples,
                $"{_duplicates} examples repeat an earlier one exactly. Duplicates weigh those examples more and inflate validation scores; remove them unless intended.",
                _duplicates));
        if (_conflicts > 0)
            warnings.Add(new(DatasetCodes.ConflictingLabels,
                $"{_conflicts} examples repeat an earlier prompt with a different completion. The model cannot learn both answers; it learns to hedge between them.",
                _conflicts));
        AddLengthOutliers(warnings);
        AddLabelImbalance(warnings);
        return warnings;
    }

    private static string Advice(string format) => format switch
    {
        DatasetFormat.Preference => "Reward models and DPO want hundreds to thousands of varied preference pairs.",
        DatasetFormat.PromptOnly => "PPO wants a varied pool of prompts so the policy does not overfit a few.",
        _ => "SFT wants hundreds to tens of thousands of good examples.",
    };

    private void AddLengthOutliers(List<DatasetWarning> warnings)
    {
        if (_observed < 10) return;
        var median = Median();
        const int factor8 = 12; // 8x longer or shorter = 3 octaves = 12 quarter-octave buckets
        long outliers = 0;
        for (var b = 0; b < Buckets; b++)
            if (b >= median + factor8 || (b <= median - factor8 && b > 0)) outliers += _lengthHistogram[b];
        if (outliers == 0) return;
        warnings.Add(new(DatasetCodes.LengthOutliers,
            $"{outliers} examples are over 8x longer or shorter than the typical one (~{BucketLength(median)} characters). " +
            "Very long examples get truncated at max_seq_length and dominate the loss; very short ones teach little. Check them.",
            outliers, new Dictionary<string, object> { ["median_chars"] = BucketLength(median), ["longest_chars"] = _longest, ["longest_line"] = _longestLine }));
    }

    private void AddLabelImbalance(List<DatasetWarning> warnings)
    {
        if (_tooManyLabels || _withCompletion < 10 || _shortCompletions < 0.9 * _withCompletion || _labels.Count == 0) return;
        var (label, count) = _labels.MaxBy(kv => kv.Value);
        var share = (double)count / _shortCompletions;
        if (_labels.Count > 1 && share < 0.75) return;
        warnings.Add(new(DatasetCodes.LabelImbalance,
            $"{share:P0} of the short completions are \"{label}\". A classifier trained on this learns to answer \"{label}\" almost always; balance the labels or weigh the rare ones up.",
            count, _labels.OrderByDescending(kv => kv.Value).ToDictionary(kv => kv.Key, kv => (object)kv.Value)));
    }

    private int Median()
    {
        long seen = 0;
        for (var b = 0; b < Buckets; b++)
            if ((seen += _lengthHistogram[b]) * 2 >= _observed) return b;
        return Buckets - 1;
    }

    private static int Bucket(long length) => Math.Min(Buckets - 1, (int)(4 * Math.Log2(length + 1)));

    private static long BucketLength(int bucket) => (long)Math.Round(Math.Pow(2, bucket / 4.0)) - 1;

    /// <summary>The text a prompt-conflict check keys on, the completion it compares, and anything else that makes an example distinct.</summary>
    private static (string[]? Prompt, string[]? Completion, string[]? Other) Parts(DatasetExample example) => example switch
    {
        TextExample t => (null, null, [t.Text]),
        PromptCompletionExample pc => ([pc.Prompt], [pc.Completion], null),
        ChatExample c when c.Messages[^1].Role == ChatMessage.Assistant =>
            (Flatten(c.Messages.Take(c.Messages.Count - 1)), [c.Messages[^1].Content], null),
        ChatExample c => (Flatten(c.Messages), null, null),
        PreferenceExample p => (p.Prompt is not null ? [p.Prompt] : Flatten(p.PromptMessages!), [p.Chosen], [p.Rejected]),
        PromptOnlyExample po => (po.Prompt is not null ? [po.Prompt] : Flatten(po.Messages!), null, null),
        _ => (null, null, null),
    };

    private static string[] Flatten(IEnumerable<ChatMessage> messages) => messages.SelectMany(m => new[] { m.Role, m.Content }).ToArray();

    private static long Length(string[]? parts) => parts?.Sum(p => (long)p.Length) ?? 0;

    private static ulong Hash(string[]? parts)
    {
        var hash = Fnv.Offset;
        if (parts is null) return hash;
        foreach (var part in parts) hash = Fnv.Combine(Fnv.Add(hash, part), 0x1F);
        return hash;
    }

    /// <summary>64-bit FNV-1a: stable across processes, unlike <see cref="HashCode"/>.</summary>
    private static class Fnv
    {
        public const ulong Offset = 14695981039346656037;
        private const ulong Prime = 1099511628211;

        public static ulong Add(ulong hash, string text)
        {
            foreach (var c in text) hash = (hash ^ c) * Prime;
            return hash;
        }

        public static ulong Combine(ulong hash, ulong value) => (hash ^ value) * Prime;
    }
}
