using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Persistence;
using TuningService.Domain.Queue;

namespace TuningService.Api.Jobs;

/// <summary>
/// Puts a committed, queued job on Hangfire's <c>training</c> queue (carrying only its id) and records the Hangfire id with a
/// compare-and-set on the row: of two callers racing to enqueue one job, one wins and the other deletes its Hangfire job.
/// </summary>
public sealed class JobQueue(IBackgroundJobClient hangfire, TuningDbContext db, ILogger<JobQueue> logger)
{
    /// <summary>
    /// Hangfire's client is synchronous: each enqueue blocks a thread-pool thread for several round trips. Unbounded, a
    /// burst of creates blocks every pool thread, the other requests' async database work stalls while holding pooled
    /// connections, and the pool runs dry (503s). Enqueues beyond this many wait asynchronously, holding nothing.
    /// </summary>
    private static readonly SemaphoreSlim HangfireWrites = new(Math.Max(2, Environment.ProcessorCount));

    /// <summary>
    /// Enqueues <paramref name="jobId"/> if its HangfireJobId is still <paramref name="expectedHangfireId"/>. Returns the new
    /// Hangfire id, or null when another caller got there first or Hangfire is unreachable (then <see cref="QueuedJobsReconciler"/> retries).
    /// </summary>
    public async Task<string?> EnqueueAsync(string jobId, string? expectedHangfireId, CancellationToken ct)
    {
        string hangfireId;
        await HangfireWrites.WaitAsync(ct);
        try
        {
            hangfireId = hangfire.Create(
                Job.FromExpression<ITrainingJobRunner>(r => r.RunAsync(jobId, CancellationToken.None)),
                new EnqueuedState(ITrainingJobRunner.QueueName));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not enqueue job {JobId}; the reconciler will retry", jobId);
            return null;
        }
        finally
        {
            HangfireWrites.Release();
        }

        var won = await db.Jobs
            .Where(j => j.Id == jobId && j.HangfireJobId == expectedHangfireId)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.HangfireJobId, hangfireId), CancellationToken.None);
        if (won == 1) return hangfireId;

        hangfire.Delete(hangfireId);
        return null;
    }

    /// <summary>Removes a job's pending Hangfire delivery (after cancel or pause of a job no worker holds).</summary>
    public void Withdraw(string? hangfireId)
    {
        if (hangfireId is null || !long.TryParse(hangfireId, out _)) return;
        try { hangfire.Delete(hangfireId); }
        catch (Exception ex) { logger.LogWarning(ex, "Could not delete Hangfire job {HangfireId}", hangfireId); }
    }
}
