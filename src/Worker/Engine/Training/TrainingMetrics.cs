namespace TuningService.Worker.Engine.Training;

/// <summary>What a run reports at each log step. Validation fields are null when no validation ran at that step.</summary>
public sealed record TrainingMetrics
{
    public int Step { get; init; }
    public int TotalSteps { get; init; }
    /// <summary>Epoch being trained (0-based; equals NEpochs after the final step).</summary>
    public int Epoch { get; init; }
    /// <summary>Mean loss per label token over the steps since the previous report.</summary>
    public double TrainLoss { get; init; }
    public double? ValidLoss { get; init; }
    /// <summary>Fraction of validation label tokens predicted exactly (argmax).</summary>
    public double? MeanTokenAccuracy { get; init; }
    /// <summary>Fraction of short validation completions reproduced exactly by greedy generation.</summary>
    public double? ExactMatchAccuracy { get; init; }
    public double LearningRate { get; init; }
    /// <summary>Input tokens (padding excluded) per second since the previous report.</summary>
    public double TokensPerSecond { get; init; }
    /// <summary>Input tokens processed since the start of the run (padding excluded).</summary>
    public long TrainedTokens { get; init; }
    /// <summary>Tokens that carried a label since the start of the run.</summary>
    public long TrainedLabelTokens { get; init; }
    /// <summary>Global gradient norm before clipping, at the reporting step.</summary>
    public double GradNorm { get; init; }
}

/// <summary>Validation results: loss and accuracy per label token, and exact match of greedy generations.</summary>
public sealed record EvaluationResult(double Loss, double MeanTokenAccuracy, double? ExactMatchAccuracy, int LabelTokens, int ExactMatchExamples);

/// <summary>Why <see cref="Trainer.Run"/> returned.</summary>
public enum TrainingOutcome
{
    Completed,
    /// <summary>Stopped at an optimizer-step boundary on request; <see cref="Trainer.SaveState"/> can checkpoint it.</summary>
    Stopped,
}

/// <summary>Hooks a runtime gives a run. All are optional and called on the training thread.</summary>
public sealed record TrainerCallbacks
{
    /// <summary>Receives metrics every LogInterval steps and after the last step.</summary>
    public IProgress<TrainingMetrics>? Progress { get; init; }
    /// <summary>Called every CheckpointInterval steps and after the last step; typically calls trainer.SaveState(dir). The bool is "final".</summary>
    public Action<Trainer, bool>? Checkpoint { get; init; }
    /// <summary>Polled at every optimizer-step boundary, like the cancellation token (cancel, pause, shutdown).</summary>
    public Func<bool>? ShouldStop { get; init; }
}
