using System.Linq.Expressions;

namespace TuningService.Domain.Jobs;

/// <summary>
/// The lease: which worker trains a running job, and until when. Only these methods (and the transitions that end a run,
/// which release it) change the lease columns; each change is saved with the <c>xmin</c> concurrency token, so of two
/// workers racing for one job exactly one holds it. A lease is live until <see cref="LeaseExpiresAt"/>; a worker that
/// dies stops heartbeating, the lease runs out, the job is delivered again and the next claim takes it over.
/// </summary>
public sealed partial class TrainingJob
{
    /// <summary>
    /// queued → running; or a running job whose lease ran out (its worker stopped responding) taken over, which counts
    /// as a crash restart. Returns null while another worker's lease is live. Its owner may claim it again (a second
    /// delivery to the same worker).
    /// </summary>
    public JobEvent? Claim(string worker, DateTimeOffset now, TimeSpan lease)
    {
        Require("started", JobStatus.Queued, JobStatus.Running);
        var takeOver = Status == JobStatus.Running && LeaseOwner != worker;
        if (takeOver && HasLiveLease(now)) return null;
        if (takeOver) CrashRestarts++;

        var resumed = Status == JobStatus.Running;
        Status = JobStatus.Running;
        StartedAt ??= now;
        LeaseOwner = worker;
        LeaseExpiresAt = now + lease;
        HeartbeatAt = now;
        Attempts++;
        return NewEvent(now, resumed
            ? $"Job taken over by worker {worker} after its previous worker stopped responding (restart {CrashRestarts})."
            : $"Job started on worker {worker}.");
    }

    /// <summary>Extends the lease by <paramref name="lease"/> from now; false when the worker no longer owns the job (then it must stop).</summary>
    public bool Heartbeat(string worker, DateTimeOffset now, TimeSpan lease)
    {
        if (!IsLeasedBy(worker)) return false;
        HeartbeatAt = now;
        LeaseExpiresAt = now + lease;
        return true;
    }

    /// <summary>True while the job runs under <paramref name="worker"/>'s lease (whether or not it has run out yet).</summary>
    public bool IsLeasedBy(string worker) => Status == JobStatus.Running && LeaseOwner == worker;

    /// <summary>True while a running job's lease has not run out: no other worker may take it.</summary>
    public bool HasLiveLease(DateTimeOffset now) => Status == JobStatus.Running && LeaseExpiresAt > now;

    /// <summary>
    /// Jobs a worker should be given (as a query): queued ones, and running ones whose lease ran out, since their worker
    /// is gone and the next claim takes them over. The same rule as <see cref="Claim"/>, for the delivery reconciler.
    /// </summary>
    public static Expression<Func<TrainingJob, bool>> AwaitsDelivery(DateTimeOffset now) =>
        j => j.Status == JobStatus.Queued || (j.Status == JobStatus.Running && (j.LeaseExpiresAt == null || j.LeaseExpiresAt <= now));

    private void ReleaseLease() => (LeaseOwner, LeaseExpiresAt) = (null, null);
}
