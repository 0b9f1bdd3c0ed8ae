namespace TuningService.Api.Jobs;

/// <summary>Limits and timings of the Jobs API, bound from the <c>Jobs</c> section.</summary>
public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>Jobs a project may have validating, queued or running at once; one more is refused with 429 too_many_jobs.</summary>
    public int MaxActiveJobsPerProject { get; set; } = 20;
    /// <summary>How long an Idempotency-Key keeps returning the job it first created.</summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(24);
    /// <summary>Largest accepted create-job body.</summary>
    public int MaxRequestBytes { get; set; } = 1 << 20;
}
