namespace TuningService.Worker.Runtime;

/// <summary>Why a run left its training loop before the last step.</summary>
public enum StopReason
{
    None,
    /// <summary>The user cancelled: no checkpoint, the job ends cancelled.</summary>
    Cancel,
    /// <summary>The user paused: checkpoint, the job ends paused; resume continues from that checkpoint.</summary>
    Pause,
    /// <summary>The worker is shutting down (SIGTERM): checkpoint, requeue.</summary>
    Shutdown,
    /// <summary>Another worker took the job over (this one was presumed dead): stop without writing anything.</summary>
    LostLease,
}
