using Hangfire;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;
using TuningService.Domain.Queue;
using TuningService.Domain.Webhooks;

namespace TuningService.Api.Observability;

/// <summary>
/// What the gauges report, read from PostgreSQL (jobs, the workers' latest metrics events) and Hangfire (queue depth),
/// at most once per <see cref="MaxAge"/>: one scrape reads once for all gauges. A database that cannot be read yields
/// empty gauges, not a failed scrape.
/// </summary>
public sealed class ServiceStatus(IServiceScopeFactory scopes, ILogger<ServiceStatus> logger)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);

    public sealed record WorkerStatus(string Worker, string JobId, double? TokensPerSecond, double? StepSeconds);

    public sealed record Snapshot(IReadOnlyDictionary<string, long> JobsByStatus, IReadOnlyDictionary<string, long> QueueDepth, IReadOnlyList<WorkerStatus> Workers)
    {
        public static readonly Snapshot Empty = new(new Dictionary<string, long>(), new Dictionary<string, long>(), []);
    }

    private readonly Lock _lock = new();
    private (Snapshot Value, DateTimeOffset At)? _cached;

    public Snapshot Read()
    {
        lock (_lock)
        {
            if (_cached is { } c && DateTimeOffset.UtcNow - c.At < MaxAge) return c.Value;
            if (Load() is not { } value) return Snapshot.Empty; // not cached: the next scrape reads again
            _cached = (value, DateTimeOffset.UtcNow);
            return value;
        }
    }

    private Snapshot? Load()
    {
        try
        {
            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<TuningDbContext>();
            var counts = db.Jobs.GroupBy(j => j.Status).Select(g => new { Status = g.Key, Count = g.LongCount() }).ToDictionary(g => g.Status, g => g.Count);
            var byStatus = JobStatus.All.ToDictionary(s => s, s => counts.GetValueOrDefault(s));

            var monitoring = scope.ServiceProvider.GetRequiredService<JobStorage>().GetMonitoringApi();
            var depth = new[] { ITrainingJobRunner.QueueName, IWebhookSender.QueueName }.ToDictionary(q => q, q => monitoring.EnqueuedCount(q));

            var running = db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Running && j.LeaseOwner != null)
                .Select(j => new { j.Id, j.LeaseOwner }).ToList();
            var workers = running.Select(j => Worker(db, j.Id, j.LeaseOwner!)).ToList();
            return new Snapshot(byStatus, depth, workers);
        }
        catch (Exception ex)
        {
            logger.LogWarning("Reading service status for /metrics failed: {Message}", ex.Message);
            return null;
        }
    }

    /// <summary>Throughput from the newest metrics event; step time from the newest two (time apart / steps apart).</summary>
    private static WorkerStatus Worker(TuningDbContext db, string jobId, string worker)
    {
        var last = db.JobEvents.AsNoTracking().Where(e => e.JobId == jobId && e.Type == EventTypes.Metrics)
            .OrderByDescending(e => e.Id).Take(2).Select(e => new { e.CreatedAt, e.Data }).ToList();
        double? Number(int i, string name) =>
            i < last.Count && last[i].Data?.RootElement.TryGetProperty(name, out var v) == true && v.TryGetDouble(out var d) ? d : null;

        double? stepSeconds = null;
        if (last.Count == 2 && Number(0, "step") is { } s1 && Number(1, "step") is { } s0 && s1 > s0)
            stepSeconds = (last[0].CreatedAt - last[1].CreatedAt).TotalSeconds / (s1 - s0);
        return new WorkerStatus(worker, jobId, Number(0, "tokens_per_second"), stepSeconds);
    }
}
