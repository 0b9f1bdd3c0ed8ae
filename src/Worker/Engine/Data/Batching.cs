using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Data;

/// <summary>
/// A micro-batch on the device. Right padding only, so plain causal attention is exact for real tokens.
/// Instead of a (B, T) label tensor with ignore entries, the N labelled positions are listed: the head then
/// projects only those rows, which is most of the compute saved on prompt-heavy data.
/// </summary>
public sealed record MicroBatch(Tensor InputIds, Tensor LabelPositions, Tensor LabelIds, int LabelCount, int TokenCount) : IDisposable
{
    /// <summary>Builds (B, T) input ids, N flat label positions into (B·T) (predicting position t from row t − 1) and N label ids.</summary>
    public static MicroBatch Collate(IReadOnlyList<EncodedExample> examples, int padId, Device device)
    {
        int batch = examples.Count, length = examples.Max(e => e.Length);
        var ids = new long[batch * length];
        Array.Fill(ids, padId);
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
        }
        return new MicroBatch(
            tensor(ids, [batch, length], ScalarType.Int64).to(device),
            tensor(positions.ToArray(), ScalarType.Int64).to(device),
            tensor(labels.ToArray(), ScalarType.Int64).to(device),
            labels.Count, tokens);
    }

    public void Dispose()
    {
        InputIds.Dispose();
        LabelPositions.Dispose();
        LabelIds.Dispose();
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
