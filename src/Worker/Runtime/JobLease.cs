using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;

namespace TuningService.Worker.Runtime;

/// <summary>
/// A worker's claim on one job: a compare-and-set on the job row (xmin), extended by heartbeats. While the lease
/// lives no other worker trains the job; if this worker dies the lease expires and the job is taken over.
/// Every status change made here goes through the job's transition methods and is retried on a concurrent
/// write (the API flagging cancel or pause), never blindly overwritten.
/// </summary>
public sealed class JobLease(IDbContextFactory<TuningDbContext> dbFactory, string jobId, string worker, TimeSpan duration)
{
    public string JobId { get; } = jobId;
    public string Worker { get; } = worker;

    /// <summary>Claims the job; null when it is not runnable here (finished, paused, cancelled, or held by a live worker).</summary>
    public static async Task<(JobLease Lease, TrainingJob Job)?> TryClaimAsync(
        IDbContextFactory<TuningDbContext> dbFactory, string jobId, string worker, TimeSpan duration, CancellationToken ct)
    {
        var lease = new JobLease(dbFactory, jobId, worker, duration);
        TrainingJob? claimed = null;
        await lease.ChangeAsync(job =>
        {
            if (job.Status is not (JobStatus.Queued or JobStatus.Running)) return null;
            var claim = job.Claim(worker, DateTimeOffset.UtcNow, duration);
            if (claim is not null) claimed = job;
            return claim;
        }, ct);
        return claimed is null ? null : (lease, claimed);
    }

    /// <summary>Extends the lease (<see cref="TrainingJob.Heartbeat"/>); false when this worker no longer owns the job.</summary>
    public async Task<bool> HeartbeatAsync(CancellationToken ct)
    {
        var owned = false;
        await SaveAsync((_, job) => Task.FromResult(owned = job.Heartbeat(Worker, DateTimeOffset.UtcNow, duration)), ct);
        return owned;
    }

    /// <summary>What the user asked of the job since it started, read at an optimizer-step boundary (one primary-key read).</summary>
    public StopReason ReadRequestedStop()
    {
        using var db = dbFactory.CreateDbContext();
        var row = db.Jobs.AsNoTracking().Where(j => j.Id == JobId)
            .Select(j => new { j.Status, j.LeaseOwner, j.CancelRequested, j.PauseRequested })
            .Single();
        if (row.Status != JobStatus.Running || row.LeaseOwner != Worker) return row.Status == JobStatus.Cancelled ? StopReason.Cancel : StopReason.LostLease;
        if (row.CancelRequested) return StopReason.Cancel;
        return row.PauseRequested ? StopReason.Pause : StopReason.None;
    }

    /// <summary>Writes progress fields without touching status (no concurrency token needed: only the lease owner writes them).</summary>
    public async Task UpdateProgressAsync(int step, int totalSteps, double epoch, string metricsJson, DateTimeOffset? estimatedFinish, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var metrics = System.Text.Json.JsonDocument.Parse(metricsJson);
        await db.Jobs.Where(j => j.Id == JobId && j.LeaseOwner == Worker)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Step, step)
                .SetProperty(j => j.TotalSteps, totalSteps)
                .SetProperty(j => j.Epoch, epoch)
                .SetProperty(j => j.LatestMetrics, metrics)
                .SetProperty(j => j.EstimatedFinish, estimatedFinish), ct);
    }

    /// <summary>
    /// Applies a transition to the freshly read job and saves it with its concurrency token, re-reading and
    /// re-applying when another writer got there first. The transition returns the event to append, or null for no change.
    /// </summary>
    public Task ChangeAsync(Func<TrainingJob, JobEvent?> transition, CancellationToken ct = default) =>
        ChangeAsync((_, job) => Task.FromResult(transition(job)), ct);

    /// <summary>
    /// The same, for a transition that also writes rows of its own through the context it is given: they are saved
    /// with the job's change, in one transaction, and rebuilt from scratch on a retry.
    /// </summary>
    public Task ChangeAsync(Func<TuningDbContext, TrainingJob, Task<JobEvent?>> transition, CancellationToken ct = default) =>
        SaveAsync(async (db, job) =>
        {
            var change = await transition(db, job);
            if (change is not null) db.JobEvents.Add(change);
            return change is not null;
        }, ct);

    /// <summary>
    /// Reads the job, applies <paramref name="change"/> (false: nothing to save) and saves with the concurrency token;
    /// on a concurrent write it reads the job again and re-applies the change, never overwriting the other writer.
    /// </summary>
    private async Task SaveAsync(Func<TuningDbContext, TrainingJob, Task<bool>> change, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var job = await db.Jobs.SingleAsync(j => j.Id == JobId, ct);
            if (!await change(db, job)) return;
            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateConcurrencyException) when (attempt < 10)
            {
                await Task.Delay(20 * attempt, ct);
            }
        }
    }
}
