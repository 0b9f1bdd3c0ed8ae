using TorchSharp;
using TuningService.Domain.Jobs;

namespace TuningService.Worker.Runtime;

/// <summary>Everything a training method needs for one delivery of one job.</summary>
public sealed class TrainingRun
{
    public required TrainingJob Job { get; init; }
    public required JobReporter Reporter { get; init; }
    public required CheckpointRegistry Checkpoints { get; init; }
    public required ArtifactStore Artifacts { get; init; }
    public required JobModels Models { get; init; }
    public required TrainingFiles Datasets { get; init; }
    public required torch.Device Device { get; init; }
    /// <summary>The name the fine-tuned model will be registered under, <c>ft:{base}:{suffix}:{job}</c>.</summary>
    public required string ModelName { get; init; }
    /// <summary>The newest complete checkpoint of this job, to continue from; null for a fresh start.</summary>
    public string? ResumeDirectory { get; init; }
    /// <summary>Polled at every optimizer-step boundary: cancel, pause, shutdown or a lost lease.</summary>
    public required Func<StopReason> PollStop { get; init; }
    public int MetricsInterval { get; init; } = 1;
}

/// <summary>What a method hands back: why it stopped, and on completion where the model is.</summary>
public sealed record MethodResult(StopReason Stopped, long TrainedTokens, string? ModelPath = null, string ModelKind = Domain.Models.ModelKinds.FineTuned, string? Architecture = null);

/// <summary>One training technique (supervised, instruction, reward model, PPO, DPO). Runs synchronously on the training thread.</summary>
public interface ITrainingMethod
{
    IReadOnlyCollection<string> MethodTypes { get; }

    MethodResult Run(TrainingRun run);
}
