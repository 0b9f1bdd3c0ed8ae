using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Rlhf;

/// <summary>
/// B preference pairs as one right-padded (2B, T) batch: rows 0..B are the chosen sides, rows B..2B the rejected
/// ones, so both go through the model in one forward. Right padding keeps plain causal attention exact.
/// </summary>
public sealed record PairBatch(Tensor InputIds, Tensor LastIndex, Tensor ResponseMask, Tensor Margins, int Pairs, int Tokens) : IDisposable
{
    /// <summary>
    /// <see cref="LastIndex"/> (2B): position of each row's last real token (its EOS), from the lengths.
    /// <see cref="ResponseMask"/> (2B, T − 1): 1 where position t + 1 is a response token, aligned with
    /// <see cref="RlhfMath.TokenLogProbs"/>. <see cref="Margins"/> (B).
    /// </summary>
    public static PairBatch Collate(IReadOnlyList<EncodedPair> pairs, int padId, Device device)
    {
        var rows = pairs.Select(p => p.Chosen).Concat(pairs.Select(p => p.Rejected)).ToArray();
        var prompts = pairs.Select(p => p.PromptLength).Concat(pairs.Select(p => p.PromptLength)).ToArray();
        int count = rows.Length, length = rows.Max(r => r.Length);
        var ids = new long[count * length];
        var responseMask = new float[count * (length - 1)];
        Array.Fill(ids, padId);
        for (int b = 0; b < count; b++)
        {
            for (int t = 0; t < rows[b].Length; t++) ids[b * length + t] = rows[b][t];
            for (int t = prompts[b]; t < rows[b].Length; t++) responseMask[b * (length - 1) + t - 1] = 1;
        }
        return new PairBatch(
            tensor(ids, [count, length], ScalarType.Int64).to(device),
            tensor(rows.Select(r => (long)r.Length - 1).ToArray(), ScalarType.Int64).to(device),
            tensor(responseMask, [count, length - 1]).to(device),
            tensor(pairs.Select(p => (float)p.Margin).ToArray()).to(device),
            pairs.Count, rows.Sum(r => r.Length));
    }

    public void Dispose()
    {
        InputIds.Dispose();
        LastIndex.Dispose();
        ResponseMask.Dispose();
        Margins.Dispose();
    }
}
