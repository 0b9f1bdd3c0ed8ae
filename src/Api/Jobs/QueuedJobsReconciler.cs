using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Jobs;

/// <summary>
/// Guarantees that a queued job reaches a worker even when the API died between committing the row and enqueueing it,
/// or its Hangfire job was deleted or ended while the row still says queued. On start and every
/// <see cref="JobsOptions.ReconcileInterval"/> it re-enqueues such jobs. A live Hangfire job is never doubled: each
/// re-enqueue first claims the row by compare-and-set (HangfireJobId old → a "pending:" marker), then swaps the marker for the new id.
/// </summary>
public sealed class QueuedJobsReconciler(
    IServiceScopeFactory scopes, IOptions<JobsOptions> options, TimeProvider clock, ILogger<QueuedJobsReconciler> logger)
    : BackgroundService
{
    private const string PendingPrefix = "pending:";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await ReconcileAsync(stoppingToken); }
            catch (Exception ex) when (ex is not OperationCanceledException) { logger.LogWarning(ex, "Reconciling queued jobs failed; retrying later"); }
            try { await Task.Delay(options.Value.ReconcileInterval, clock, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>One pass; returns the ids of the jobs it re-enqueued.</summary>
    public async Task<IReadOnlyList<string>> ReconcileAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TuningDbContext>();
        var queue = scope.ServiceProvider.GetRequiredService<JobQueue>();
        var storage = scope.ServiceProvider.GetRequiredService<JobStorage>(); // resolved per pass: a database down at start-up must not stop the host
        var now = clock.GetUtcNow();
        var settled = now - options.Value.EnqueueGracePeriod;

        var candidates = await db.Jobs.AsNoTracking()
            .Where(j => j.Status == JobStatus.Queued)
            .OrderBy(j => j.CreatedAt).Take(500)
            .Select(j => new { j.Id, j.HangfireJobId, j.CreatedAt })
            .ToListAsync(ct);

        var reenqueued = new List<string>();
        using var connection = storage.GetConnection();
        foreach (var job in candidates)
        {
            if (!NeedsEnqueue(connection, job.HangfireJobId, job.CreatedAt, settled)) continue;
            var marker = $"{PendingPrefix}{now.ToUnixTimeSeconds()}:{Guid.NewGuid():N}";
            var claimed = await db.Jobs
                .Where(j => j.Id == job.Id && j.Status == JobStatus.Queued && j.HangfireJobId == job.HangfireJobId)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.HangfireJobId, marker), ct);
            if (claimed == 0) continue; // someone else changed it meanwhile
            if (await queue.EnqueueAsync(job.Id, marker, ct) is not null)
            {
                reenqueued.Add(job.Id);
                logger.LogInformation("Re-enqueued queued job {JobId} (its Hangfire job was {HangfireId})", job.Id, job.HangfireJobId ?? "missing");
            }
        }
        return reenqueued;
    }

    private static bool NeedsEnqueue(Hangfire.Storage.IStorageConnection connection, string? hangfireId, DateTimeOffset createdAt, DateTimeOffset settled)
    {
        if (hangfireId is null) return createdAt <= settled;
        if (hangfireId.StartsWith(PendingPrefix, StringComparison.Ordinal))
        {
            // Another pass claimed it; only take over when that pass evidently died.
            var stamp = hangfireId.Split(':')[1];
            return long.TryParse(stamp, out var at) && DateTimeOffset.FromUnixTimeSeconds(at) <= settled;
        }
        if (!long.TryParse(hangfireId, out _)) return true;
        var data = connection.GetJobData(hangfireId);
        return data?.State is null || data.State == SucceededState.StateName || data.State == DeletedState.StateName || data.State == FailedState.StateName;
    }
}
