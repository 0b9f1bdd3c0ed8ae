using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Data;

/// <summary>
/// A micro-batch on the device. Right padding only, so plain causal attention is exact for real tokens.
/// Instead of a (B, T) label tensor with ignore entries, the N labelled positions are listed: the head then
/// projects only those rows, which is most of the compute saved on prompt-heavy data.
/// A batch of packed rows also carries per-example position ids (B, T) and a block-diagonal causal mask (B, 1, T, T),
/// so that no example attends to another; both are null otherwise.
/// </summary>
public sealed record MicroBatch(Tensor InputIds, Tensor LabelPositions, Tensor LabelIds, int LabelCount, int TokenCount,
    Tensor? PositionIds = null, Tensor? AttentionMask = null) : IDisposable
{
    /// <summary>Builds (B, T) input ids, N flat label positions into (B·T) (predicting position t from row t − 1) and N label ids.</summary>
    public static MicroBatch Collate(IReadOnlyList<EncodedExample> examples, int padId, Device device)
    {
        int batch = examples.Count, length = examples.Max(e => e.Length);
        bool packed = examples.Any(e => e.ExampleLengths is not null);
        var ids = new long[batch * length];
        Array.Fill(ids, padId);
        var positionIds = packed ? new long[batch * length] : null;
        var exampleIds = packed ? new long[batch * length] : null;  // which example of its row a token belongs to; padding −1
        var positions = new List<long>();
        var labels = new List<long>();
        int tokens = 0;
        for (int b = 0; b < batch; b++)
        {
            var e = examples[b];
            tokens += e.Length;
            for (int t = 0; t < e.Length; t++)
            {
                ids[b * length + t] = e.InputIds[t];
                if (t > 0 && e.Labelled[t]) { positions.Add(b * length + t - 1); labels.Add(e.InputIds[t]); }
            }
            if (!packed) continue;
            int start = 0, example = 0;
            foreach (var exampleLength in e.ExampleLengths ?? [e.Length])
            {
                for (int t = 0; t < exampleLength; t++)
                {
                    positionIds![b * length + start + t] = t;
                    exampleIds![b * length + start + t] = example;
                }
                start += exampleLength;
                example++;
            }
            for (int t = start; t < length; t++) exampleIds![b * length + t] = -1;
        }
        return new MicroBatch(
            tensor(ids, [batch, length], ScalarType.Int64).to(device),
            tensor(positions.ToArray(), ScalarType.Int64).to(device),
            tensor(labels.ToArray(), ScalarType.Int64).to(device),
            labels.Count, tokens,
            packed ? tensor(positionIds!, [batch, length], ScalarType.Int64).to(device) : null,
            packed ? BlockDiagonalCausalMask(tensor(exampleIds!, [batch, length], ScalarType.Int64).to(device)) : null);
    }

    /// <summary>
    /// (B, 1, T, T), true where query t may attend to key s: s ≤ t within the same example. Padding (−1) attends to
    /// earlier padding, so no query row is empty (an empty row would give NaN); no real token sees it.
    /// </summary>
    private static Tensor BlockDiagonalCausalMask(Tensor exampleIds)
    {
        long length = exampleIds.shape[1];
        using var scope = NewDisposeScope();
        var sameExample = exampleIds.unsqueeze(2) == exampleIds.unsqueeze(1);                            // (B, T, T)
        var causal = ones(length, length, ScalarType.Bool, device: exampleIds.device).tril();             // (T, T)
        return (sameExample & causal).unsqueeze(1).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        InputIds.Dispose();
        LabelPositions.Dispose();
        LabelIds.Dispose();
        PositionIds?.Dispose();
        AttentionMask?.Dispose();
    }
}

/// <summary>
/// Length-grouped batching: each epoch shuffles the examples with a seed derived from (seed, epoch), sorts
/// windows of 64 batches by length so batches hold similar lengths (little padding), then shuffles the batches.
/// The order of an epoch depends only on (seed, epoch), so a resumed run needs only its position.
/// </summary>
public static class LengthGroupedBatches
{
    private const int WindowBatches = 64;

    public static List<int[]> ForEpoch(IReadOnlyList<EncodedExample> data, int batchSize, long seed, int epoch, bool groupByLength = true)
    {
        var rng = new SplitMix64((ulong)seed * 1_000_003UL + (ulong)epoch);
        var order = Enumerable.Range(0, data.Count).ToArray();
        rng.Shuffle(order);
        var batches = new List<int[]>();
        foreach (var window in order.Chunk(batchSize * WindowBatches))
        {
            var sorted = groupByLength ? window.OrderByDescending(i => data[i].Length).ThenBy(i => i).ToArray() : window;
            batches.AddRange(sorted.Chunk(batchSize));
        }
        var batchOrder = batches.ToArray();
        rng.Shuffle(batchOrder);
        return batchOrder.ToList();
    }

    public static int CountPerEpoch(int examples, int batchSize)
    {
        int windows = examples / (batchSize * WindowBatches), rest = examples % (batchSize * WindowBatches);
        return windows * WindowBatches + (rest + batchSize - 1) / batchSize;
    }
}

/// <summary>A small, fully specified PRNG (SplitMix64), so shuffles never change with the runtime version.</summary>
public sealed class SplitMix64(ulong seed)
{
    private ulong state = seed;

    public ulong Next()
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public void Shuffle<T>(T[] items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = (int)(Next() % (ulong)(i + 1));
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
