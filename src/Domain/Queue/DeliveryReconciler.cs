using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;

namespace TuningService.Domain.Queue;

/// <summary>Timings of the <see cref="DeliveryReconciler"/>.</summary>
public sealed class DeliveryOptions
{
    /// <summary>Time between passes. Workers use half their lease, so a dead worker's job is delivered again about a lease period after it died.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);
    /// <summary>A delivery still being written is left to its writer this long: a fresh job its creator is enqueueing, a "pending" marker.</summary>
    public TimeSpan EnqueueGracePeriod { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Guarantees that every job awaiting a worker has a live delivery on the <c>training</c> queue: a queued job whose
/// enqueue was lost (the Api died between commit and enqueue, or its Hangfire job was deleted or ended), and a running
/// job whose lease ran out (its worker died; the next claim takes it over from the newest checkpoint). Every pass
/// delivers through <see cref="TrainingQueue"/>'s compare-and-set, so any number of reconcilers, in any processes,
/// deliver a lost job once. It changes no lease: taking a job over is the claiming worker's move.
/// </summary>
public sealed class DeliveryReconciler(
    IServiceScopeFactory scopes, IOptions<DeliveryOptions> options, TimeProvider clock, ILogger<DeliveryReconciler> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await ReconcileAsync(stoppingToken); }
            catch (Exception ex) when (ex is not OperationCanceledException) { logger.LogWarning(ex, "Reconciling deliveries failed; retrying later"); }
            try { await Task.Delay(options.Value.Interval, clock, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>One pass; returns the ids of the jobs it delivered again.</summary>
    public async Task<IReadOnlyList<string>> ReconcileAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TuningDbContext>();
        var queue = scope.ServiceProvider.GetRequiredService<TrainingQueue>();
        var storage = scope.ServiceProvider.GetRequiredService<JobStorage>(); // resolved per pass: a database down at start-up must not stop the host
        var now = clock.GetUtcNow();
        var settled = now - options.Value.EnqueueGracePeriod;

        var candidates = await db.Jobs.AsNoTracking()
            .Where(TrainingJob.AwaitsDelivery(now))
            .OrderBy(j => j.CreatedAt).Take(500)
            .Select(j => new { j.Id, j.Status, j.HangfireJobId, j.CreatedAt })
            .ToListAsync(ct);

        var delivered = new List<string>();
        using var connection = storage.GetConnection();
        foreach (var job in candidates)
        {
            var leaseExpired = job.Status == JobStatus.Running;
            if (!IsLost(connection, leaseExpired, job.HangfireJobId, job.CreatedAt, settled)) continue;
            if (await queue.EnqueueAsync(db, job.Id, job.HangfireJobId, ct) is null) continue;
            delivered.Add(job.Id);
            if (leaseExpired) logger.LogWarning("Job {JobId} lost its worker (lease expired); delivered again to resume from its newest checkpoint.", job.Id);
            else logger.LogInformation("Delivered queued job {JobId} again (its Hangfire job was {HangfireId})", job.Id, job.HangfireJobId ?? "missing");
        }
        return delivered;
    }

    private static bool IsLost(IStorageConnection connection, bool leaseExpired, string? delivery, DateTimeOffset createdAt, DateTimeOffset settled)
    {
        if (delivery is null) return leaseExpired || createdAt <= settled;
        if (TrainingQueue.IsPending(delivery, out var since)) return since <= settled; // its writer evidently died
        if (!long.TryParse(delivery, out _)) return true;
        var state = connection.GetJobData(delivery)?.State;
        if (state == EnqueuedState.StateName || state == ScheduledState.StateName || state == AwaitingState.StateName) return false; // waiting for a worker
        // Fetched: for a queued job a worker is about to claim it (Hangfire delivers it again if that worker dies);
        // for a job whose lease ran out, it died with its worker.
        if (state == ProcessingState.StateName) return leaseExpired;
        return true; // gone, succeeded, failed or deleted
    }
}
