namespace TuningService.Api.Jobs;

/// <summary>Limits and timings of the Jobs API, bound from the <c>Jobs</c> section.</summary>
public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>Jobs a project may have validating, queued or running at once; one more is refused with 429 too_many_jobs.</summary>
    public int MaxActiveJobsPerProject { get; set; } = 20;
    /// <summary>How long an Idempotency-Key keeps returning the job it first created.</summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(24);
    /// <summary>How often <see cref="QueuedJobsReconciler"/> looks for queued jobs whose Hangfire job was lost.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>A queued job without a Hangfire id younger than this is left alone: its creator is still enqueueing it.</summary>
    public TimeSpan EnqueueGracePeriod { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>Largest accepted create-job body.</summary>
    public int MaxRequestBytes { get; set; } = 1 << 20;
}
