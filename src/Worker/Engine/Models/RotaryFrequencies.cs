namespace TuningService.Worker.Engine.Models;

/// <summary>
/// Rotary inverse frequencies (D/2) and the factor cos/sin are multiplied by, as transformers' rope utilities compute
/// them for each <c>rope_scaling</c> type: none (θ^(−2i/D)), <c>linear</c> (divided by the factor), <c>dynamic</c>
/// (NTK: a larger base once a sequence is longer than max_position_embeddings), <c>llama3</c> (Llama 3.1/3.2: low
/// frequencies divided by the factor, high ones kept, a smooth ramp between) and <c>yarn</c> (per-frequency blend of
/// interpolation and extrapolation, cos/sin scaled by 0.1·ln(factor) + 1).
/// </summary>
public static class RotaryFrequencies
{
    /// <summary>The rope_scaling types the engine applies.</summary>
    public static readonly IReadOnlySet<string> Types = new HashSet<string> { "default", "linear", "dynamic", "llama3", "yarn" };

    /// <summary>
    /// Frequencies for a forward over positions below <paramref name="sequenceLength"/>. Only <c>dynamic</c> depends on
    /// it; transformers keeps the largest length seen so far, this takes the current one (they agree on one call).
    /// </summary>
    public static (float[] InverseFrequencies, double AttentionFactor) For(ModelConfig config, long sequenceLength)
    {
        int d = config.HeadDim;
        double theta = config.RopeTheta;
        var scaling = config.RopeScaling;
        switch (scaling?.Type)
        {
            case null or "default":
                return (Plain(theta, d).Select(f => (float)f).ToArray(), 1.0);
            case "linear":
                return (Plain(theta, d).Select(f => (float)(f / scaling.Factor)).ToArray(), 1.0);
            case "dynamic":
            {
                double max = config.MaxPositionEmbeddings, length = Math.Max(sequenceLength, config.MaxPositionEmbeddings);
                double stretched = theta * Math.Pow(scaling.Factor * length / max - (scaling.Factor - 1), d / (d - 2.0));
                return (Plain(stretched, d).Select(f => (float)f).ToArray(), 1.0);
            }
            case "llama3":
                return (Llama3(Plain(theta, d), scaling, config.MaxPositionEmbeddings), 1.0);
            case "yarn":
                return Yarn(theta, d, scaling, config.MaxPositionEmbeddings);
            default:
                throw new NotSupportedException($"rope_scaling type '{scaling.Type}' is not supported; supported: {string.Join(", ", Types)}.");
        }
    }

    private static double[] Plain(double theta, int d) => Enumerable.Range(0, d / 2).Select(i => 1.0 / Math.Pow(theta, 2.0 * i / d)).ToArray();

    private static float[] Llama3(double[] plain, RopeScaling s, int maxPositions)
    {
        double factor = s.Factor, low = s.LowFreqFactor ?? 1.0, high = s.HighFreqFactor ?? 4.0;
        double context = s.OriginalMaxPositionEmbeddings ?? maxPositions;
        double lowWavelength = context / low, highWavelength = context / high;
        return plain.Select(f =>
        {
            double wavelength = 2 * Math.PI / f;
            if (wavelength < highWavelength) return (float)f;           // high frequency: kept
            if (wavelength > lowWavelength) return (float)(f / factor); // low frequency: interpolated
            double smooth = (context / wavelength - low) / (high - low);
            return (float)((1 - smooth) * f / factor + smooth * f);
        }).ToArray();
    }

    private static (float[], double) Yarn(double theta, int d, RopeScaling s, int maxPositions)
    {
        double factor = s.Factor, original = s.OriginalMaxPositionEmbeddings ?? maxPositions;
        double attention = s.AttentionFactor ?? (factor <= 1 ? 1.0 : 0.1 * Math.Log(factor) + 1.0);
        double betaFast = s.BetaFast ?? 32, betaSlow = s.BetaSlow ?? 1;
        double CorrectionDim(double rotations) => d * Math.Log(original / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));
        double lowDim = Math.Max(Math.Floor(CorrectionDim(betaFast)), 0), highDim = Math.Min(Math.Ceiling(CorrectionDim(betaSlow)), d - 1);
        if (lowDim == highDim) highDim += 0.001;
        var frequencies = new float[d / 2];
        for (int i = 0; i < d / 2; i++)
        {
            double extrapolated = 1.0 / Math.Pow(theta, 2.0 * i / d), interpolated = extrapolated / factor;
            double ramp = Math.Clamp((i - lowDim) / (highDim - lowDim), 0, 1);
            double keep = 1 - ramp;                                        // 1: extrapolate (high frequencies), 0: interpolate
            frequencies[i] = (float)(interpolated * (1 - keep) + extrapolated * keep);
        }
        return (frequencies, attention);
    }
}
