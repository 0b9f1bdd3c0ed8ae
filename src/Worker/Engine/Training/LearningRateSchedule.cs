namespace TuningService.Worker.Engine.Training;

/// <summary>Linear warmup to the peak, then linear or cosine decay to 0 (or constant).</summary>
public static class LearningRateSchedule
{
    /// <summary>The rate for optimizer step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    public static double At(int step, int totalSteps, TrainingHyperparameters hp)
    {
        int warmup = (int)Math.Ceiling(hp.WarmupRatio * totalSteps);
        if (step < warmup) return hp.LearningRate * (step + 1) / (warmup + 1);
        if (hp.LrScheduler == "constant") return hp.LearningRate;
        double progress = (double)(step - warmup) / Math.Max(1, totalSteps - warmup); // in [0, 1)
        return hp.LrScheduler == "cosine"
            ? hp.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * progress))
            : hp.LearningRate * (1 - progress);
    }
}
