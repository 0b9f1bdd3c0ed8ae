using System.Linq.Expressions;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;

namespace TuningService.Domain.Queue;

/// <summary>
/// The one writer of a job's delivery (<see cref="TrainingJob.HangfireJobId"/>) and the one place a job is put on the
/// <c>training</c> queue, carrying only its id: used by the Api (create, resume), the worker (requeue on shutdown) and
/// the <see cref="DeliveryReconciler"/>. Every delivery is a compare-and-set on the row, so of callers racing to deliver
/// one job exactly one creates a Hangfire job. Call it only after the job's row is committed: a worker must never
/// receive an id it cannot read.
/// </summary>
public sealed class TrainingQueue(IBackgroundJobClient hangfire, ILogger<TrainingQueue> logger)
{
    private const string PendingPrefix = "pending:";

    /// <summary>
    /// Hangfire's client is synchronous: each enqueue blocks a thread-pool thread for several round trips. Unbounded, a
    /// burst of creates blocks every pool thread, the other requests' async database work stalls while holding pooled
    /// connections, and the pool runs dry (503s). Enqueues beyond this many wait asynchronously, holding nothing.
    /// </summary>
    private readonly SemaphoreSlim _hangfireWrites = new(Math.Max(2, Environment.ProcessorCount));

    /// <summary>
    /// Delivers a job that awaits a worker (queued, or running with its lease run out) if its delivery is still
    /// <paramref name="expectedDelivery"/>. Returns the new Hangfire id; null when another caller changed the delivery
    /// first, the job awaits none, or Hangfire is unreachable (then the <see cref="DeliveryReconciler"/> delivers it later).
    /// </summary>
    public async Task<string?> EnqueueAsync(TuningDbContext db, string jobId, string? expectedDelivery, CancellationToken ct)
    {
        // Claim the delivery before creating anything, so a caller that loses the race leaves no Hangfire job behind
        // that a worker could fetch. The marker's time lets a reconciler take over from a caller that died holding it.
        var now = DateTimeOffset.UtcNow;
        var marker = $"{PendingPrefix}{now.ToUnixTimeSeconds()}:{Guid.NewGuid():N}";
        if (!await SwapAsync(db, jobId, expectedDelivery, marker, TrainingJob.AwaitsDelivery(now), ct)) return null;

        string hangfireId;
        await _hangfireWrites.WaitAsync(CancellationToken.None);
        try
        {
            hangfireId = hangfire.Create(
                Job.FromExpression<ITrainingJobRunner>(r => r.RunAsync(jobId, CancellationToken.None)),
                new EnqueuedState(ITrainingJobRunner.QueueName));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not enqueue job {JobId}; the delivery reconciler will retry", jobId);
            try { await SwapAsync(db, jobId, marker, expectedDelivery, null, CancellationToken.None); }
            catch (Exception restore) { logger.LogWarning(restore, "Could not restore the delivery of job {JobId}; it is retried once the marker is stale", jobId); }
            return null;
        }
        finally
        {
            _hangfireWrites.Release();
        }

        if (await SwapAsync(db, jobId, marker, hangfireId, null, CancellationToken.None)) return hangfireId;
        hangfire.Delete(hangfireId); // a reconciler took the stale marker over and delivered the job itself
        return null;
    }

    /// <summary>Removes a job's pending Hangfire delivery (after cancel or pause of a job no worker holds).</summary>
    public void Withdraw(string? hangfireId)
    {
        if (hangfireId is null || !long.TryParse(hangfireId, out _)) return;
        try { hangfire.Delete(hangfireId); }
        catch (Exception ex) { logger.LogWarning(ex, "Could not delete Hangfire job {HangfireId}", hangfireId); }
    }

    /// <summary>True when <paramref name="delivery"/> is a delivery being written; <paramref name="since"/> is when it began.</summary>
    public static bool IsPending(string delivery, out DateTimeOffset since)
    {
        since = default;
        if (!delivery.StartsWith(PendingPrefix, StringComparison.Ordinal)) return false;
        var stamp = delivery.Split(':')[1];
        since = long.TryParse(stamp, out var at) ? DateTimeOffset.FromUnixTimeSeconds(at) : DateTimeOffset.MinValue;
        return true;
    }

    private static async Task<bool> SwapAsync(TuningDbContext db, string jobId, string? from, string? to,
        Expression<Func<TrainingJob, bool>>? awaitingDelivery, CancellationToken ct)
    {
        var row = db.Jobs.Where(j => j.Id == jobId && j.HangfireJobId == from);
        if (awaitingDelivery is not null) row = row.Where(awaitingDelivery);
        return await row.ExecuteUpdateAsync(s => s.SetProperty(j => j.HangfireJobId, to), ct) == 1;
    }
}
