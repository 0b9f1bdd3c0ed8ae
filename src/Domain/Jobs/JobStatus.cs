namespace TuningService.Domain.Jobs;

/// <summary>The closed set of job statuses, spelled as the API spells them.</summary>
public static class JobStatus
{
    public const string ValidatingFiles = "validating_files";
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Paused = "paused";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All =
        [ValidatingFiles, Queued, Running, Paused, Succeeded, Failed, Cancelled];

    public static bool IsTerminal(string status) => status is Succeeded or Failed or Cancelled;

    /// <summary>Statuses in which a job still needs its files.</summary>
    public static bool IsActive(string status) => status is ValidatingFiles or Queued or Running or Paused;
}

/// <summary>Thrown when a job is asked to move where its state machine does not allow.</summary>
public sealed class InvalidJobTransitionException(string jobId, string from, string action)
    : InvalidOperationException($"Job {jobId} is {from}; it cannot be {action}.")
{
    public string From { get; } = from;
    public string Action { get; } = action;
}

/// <summary>What a failed job tells its user: a stable code, a message saying what to do, and the offending field.</summary>
public sealed record JobError(string Code, string Message, string? Param = null);
