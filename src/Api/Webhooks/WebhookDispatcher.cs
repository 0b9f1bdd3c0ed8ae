using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TuningService.Api.Events;
using TuningService.Api.Observability;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;
using TuningService.Domain.Webhooks;

namespace TuningService.Api.Webhooks;

/// <summary>
/// Turns outbox rows (<see cref="WebhookEvent"/>, written by triggers with the change they announce) into one Hangfire
/// delivery per subscribed endpoint, then stamps them dispatched. Rows are claimed with <c>FOR UPDATE SKIP LOCKED</c>,
/// so any number of Api instances share the work. At least once: a crash after enqueueing and before the stamp commits
/// dispatches the row again, and the receiver sees the same <c>webhook-id</c> twice; no crash loses one.
/// </summary>
public sealed class WebhookDispatcher(
    IServiceScopeFactory scopes, DatabaseNotifications notifications, IOptions<WebhooksOptions> options,
    TuningMetrics metrics, TimeProvider clock, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private const int BatchSize = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var notified = notifications.Subscribe(DatabaseNotifications.WebhookEvents);
        while (!stoppingToken.IsCancellationRequested)
        {
            int dispatched;
            try
            {
                dispatched = await DispatchBatchAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Dispatching webhook events failed ({Message}); retrying", ex.Message);
                dispatched = 0;
            }
            if (dispatched == BatchSize) continue;
            try { await notified.WaitAsync(options.Value.DispatchInterval, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Dispatches up to one batch of undispatched events; returns how many.</summary>
    public async Task<int> DispatchBatchAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TuningDbContext>();
        var hangfire = scope.ServiceProvider.GetRequiredService<IBackgroundJobClient>();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var events = await db.WebhookEvents
            .FromSql($"SELECT * FROM webhook_events WHERE dispatched_at IS NULL ORDER BY id LIMIT {BatchSize} FOR UPDATE SKIP LOCKED")
            .ToListAsync(ct);
        if (events.Count == 0) return 0;

        var projects = events.Select(e => e.ProjectId).Distinct().ToList();
        var endpoints = await db.WebhookEndpoints.AsNoTracking().Where(w => projects.Contains(w.ProjectId)).ToListAsync(ct);
        foreach (var ev in events)
        {
            foreach (var endpoint in endpoints.Where(w => w.ProjectId == ev.ProjectId && w.Events.Contains(ev.Type)))
                hangfire.Create(WebhookSender.Job(ev.Id, endpoint.Id, 1), new EnqueuedState(IWebhookSender.QueueName));
            ev.DispatchedAt = clock.GetUtcNow();
        }
        await RecordDurationsAsync(db, events, ct);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        logger.LogDebug("Dispatched {Count} webhook events", events.Count);
        return events.Count;
    }

    /// <summary>Job durations for the <c>tuning_job_duration_seconds</c> histogram, from the terminal events dispatched here.</summary>
    private async Task RecordDurationsAsync(TuningDbContext db, List<WebhookEvent> events, CancellationToken ct)
    {
        var ended = events.Where(e => e.Type is WebhookEventTypes.JobSucceeded or WebhookEventTypes.JobFailed or WebhookEventTypes.JobCancelled)
            .Select(e => e.JobId).Distinct().ToList();
        if (ended.Count == 0) return;
        var jobs = await db.Jobs.AsNoTracking().Where(j => ended.Contains(j.Id))
            .Select(j => new { j.Status, j.MethodType, j.CreatedAt, j.StartedAt, j.FinishedAt }).ToListAsync(ct);
        foreach (var job in jobs.Where(j => j.FinishedAt is not null && JobStatus.IsTerminal(j.Status)))
            metrics.JobFinished(job.Status, job.MethodType, (job.FinishedAt!.Value - (job.StartedAt ?? job.CreatedAt)).TotalSeconds);
    }
}
