using System.Text.Json;
using TuningService.Domain;
using TuningService.Domain.Jobs;
using TuningService.Domain.Jobs.Specs;

namespace TuningService.Api.Jobs;

/// <summary>OpenAI's fine-tuning job object plus the additive <c>progress</c> and <c>metrics</c>.</summary>
public sealed record JobObject
{
    /// <example>ftjob-abc123</example>
    public required string Id { get; init; }
    public string Object => "fine_tuning.job";
    public required long CreatedAt { get; init; }
    public long? FinishedAt { get; init; }
    public long? EstimatedFinish { get; init; }
    public JobErrorObject? Error { get; init; }
    public string? FineTunedModel { get; init; }
    public required JobHyperparametersObject Hyperparameters { get; init; }
    public required MethodSpec Method { get; init; }
    public required string Model { get; init; }
    public required string OrganizationId { get; init; }
    public required IReadOnlyList<string> ResultFiles { get; init; }
    public required long Seed { get; init; }
    /// <example>queued</example>
    public required string Status { get; init; }
    public long? TrainedTokens { get; init; }
    public required string TrainingFile { get; init; }
    public string? ValidationFile { get; init; }
    /// <summary>The plain-text file whose loss measures forgetting (metrics reference_loss and forgetting), or null.</summary>
    public string? ReferenceFile { get; init; }
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }
    public IReadOnlyList<object> Integrations { get; init; } = [];
    public string? UserProvidedSuffix { get; init; }
    public required JobProgress Progress { get; init; }
    /// <summary>The latest metrics the worker reported (step, train_loss, valid_loss, ...), or null before the first.</summary>
    public JsonElement? Metrics { get; init; }

    public static JobObject From(TrainingJob job)
    {
        var spec = JobSpecSerializer.Deserialize(job.Spec);
        var method = spec.Method ?? new MethodSpec { Type = job.MethodType };
        var h = method.Selected;
        return new JobObject
        {
            Id = job.Id,
            CreatedAt = job.CreatedAt.ToUnixSeconds(),
            FinishedAt = job.FinishedAt?.ToUnixSeconds(),
            EstimatedFinish = job.EstimatedFinish?.ToUnixSeconds(),
            Error = job.Error is { } e ? new JobErrorObject(e.Code, e.Message, e.Param) : null,
            FineTunedModel = job.FineTunedModel,
            Hyperparameters = new JobHyperparametersObject(h?.NEpochs, h?.BatchSize, h?.LearningRateMultiplier, (method.Dpo?.Hyperparameters)?.Beta),
            Method = method,
            Model = job.Model,
            OrganizationId = job.ProjectId,
            ResultFiles = job.ResultFiles,
            Seed = job.Seed,
            Status = job.Status,
            TrainedTokens = job.TrainedTokens,
            TrainingFile = job.TrainingFileId,
            ValidationFile = job.ValidationFileId,
            ReferenceFile = spec.ReferenceFile,
            Metadata = job.Metadata,
            UserProvidedSuffix = job.Suffix,
            Progress = new JobProgress(job.Step, job.TotalSteps, job.Epoch),
            Metrics = job.LatestMetrics?.RootElement.Clone(),
        };
    }
}

/// <summary>Why a job failed: a stable code, what to do about it, and the offending field.</summary>
public sealed record JobErrorObject(string Code, string Message, string? Param);

/// <summary>The hyperparameters as OpenAI's job object shows them (resolved values).</summary>
public sealed record JobHyperparametersObject(int? NEpochs, int? BatchSize, double? LearningRateMultiplier, double? Beta);

/// <summary>Optimizer steps done of the planned total, and the (fractional) epoch.</summary>
public sealed record JobProgress(int Step, int TotalSteps, double Epoch);

/// <summary>OpenAI's fine-tuning job event.</summary>
public sealed record JobEventObject(string Id, long CreatedAt, string Level, string Message, string Type, JsonElement? Data)
{
    public string Object => "fine_tuning.job.event";

    public static JobEventObject From(JobEvent e) =>
        new(e.PublicId, e.CreatedAt.ToUnixSeconds(), e.Level, e.Message, e.Type, e.Data?.RootElement.Clone());
}

/// <summary>OpenAI's fine-tuning checkpoint object.</summary>
public sealed record JobCheckpointObject(string Id, long CreatedAt, string FineTunedModelCheckpoint, int StepNumber, CheckpointMetrics Metrics, string FineTuningJobId)
{
    public string Object => "fine_tuning.job.checkpoint";

    public static JobCheckpointObject From(JobCheckpoint c) =>
        new(c.Id, c.CreatedAt.ToUnixSeconds(), c.FineTunedModelCheckpoint, c.Step, CheckpointMetrics.From(c.Step, c.Metrics), c.JobId);
}

/// <summary>Metrics at a checkpoint, named as OpenAI names them (read from the keys the worker stores).</summary>
public sealed record CheckpointMetrics(double Step, double? TrainLoss, double? TrainMeanTokenAccuracy, double? ValidLoss,
    double? ValidMeanTokenAccuracy, double? FullValidLoss, double? FullValidMeanTokenAccuracy)
{
    public static CheckpointMetrics From(int step, JsonDocument? metrics)
    {
        double? Read(string name)
            => metrics?.RootElement.ValueKind == JsonValueKind.Object
               && metrics.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        return new(step, Read(MetricNames.TrainLoss), Read(MetricNames.TrainMeanTokenAccuracy), Read(MetricNames.ValidLoss),
            Read(MetricNames.ValidMeanTokenAccuracy), Read(MetricNames.FullValidLoss), Read(MetricNames.FullValidMeanTokenAccuracy));
    }
}
