using System.Text.Json;

namespace TuningService.Domain.Jobs;

/// <summary>
/// A fine-tuning job. Its status changes only through the transition methods below, each of which
/// checks the allowed moves, throws <see cref="InvalidJobTransitionException"/> otherwise, and
/// returns the event to append. Rows are saved with the <c>xmin</c> concurrency token, so two
/// writers racing on one job cannot both win.
/// </summary>
public sealed partial class TrainingJob
{
    public required string Id { get; init; }
    public required string ProjectId { get; init; }
    /// <summary>Base model id as the user gave it (preset, base checkpoint or fine-tuned model).</summary>
    public required string Model { get; init; }
    public required string TrainingFileId { get; init; }
    public string? ValidationFileId { get; init; }
    public string? Suffix { get; init; }
    public long Seed { get; init; }
    /// <summary>Method type: supervised, instruction, reward_model, ppo or dpo.</summary>
    public required string MethodType { get; init; }
    /// <summary>The fully resolved spec (method with every hyperparameter defaulted), as the API shows it.</summary>
    public required JsonDocument Spec { get; init; }
    public Dictionary<string, string> Metadata { get; init; } = [];
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public string Status { get; private set; } = JobStatus.ValidatingFiles;
    public DateTimeOffset? StartedAt { get; private set; }
    public DateTimeOffset? FinishedAt { get; private set; }
    public DateTimeOffset? EstimatedFinish { get; set; }
    public string? ErrorCode { get; private set; }
    public string? ErrorMessage { get; private set; }
    public string? ErrorParam { get; private set; }
    public string? FineTunedModel { get; private set; }
    public List<string> ResultFiles { get; private set; } = [];
    public long? TrainedTokens { get; private set; }

    /// <summary>Progress, updated by the worker at log intervals.</summary>
    public int Step { get; set; }
    public int TotalSteps { get; set; }
    public double Epoch { get; set; }
    public JsonDocument? LatestMetrics { get; set; }

    /// <summary>Set when cancel or pause is asked of a running job; the worker honours it within one optimizer step.</summary>
    public bool CancelRequested { get; private set; }
    public bool PauseRequested { get; private set; }

    /// <summary>The worker holding the job; valid until <see cref="LeaseExpiresAt"/>, extended by heartbeats.</summary>
    public string? LeaseOwner { get; private set; }
    public DateTimeOffset? LeaseExpiresAt { get; private set; }
    public DateTimeOffset? HeartbeatAt { get; private set; }
    /// <summary>How many times a worker has claimed the job (1 on a clean first run).</summary>
    public int Attempts { get; private set; }
    /// <summary>Claims that took over from a worker that vanished without releasing the lease.</summary>
    public int CrashRestarts { get; private set; }

    public string? HangfireJobId { get; set; }
    public string? IdempotencyKey { get; init; }
    /// <summary>Hash of the request body the idempotency key was first used with.</summary>
    public string? IdempotencyRequestHash { get; init; }

    /// <summary>PostgreSQL <c>xmin</c>: the optimistic concurrency token.</summary>
    public uint Version { get; private set; }

    public JobError? Error => ErrorCode is null ? null : new JobError(ErrorCode, ErrorMessage ?? "", ErrorParam);
}
