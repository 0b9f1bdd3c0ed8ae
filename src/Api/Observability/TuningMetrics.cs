using System.Diagnostics.Metrics;

namespace TuningService.Api.Observability;

/// <summary>
/// The service's own instruments (meter <c>TuningService.Api</c>), exported on <c>/metrics</c> as
/// <c>tuning_jobs</c>, <c>tuning_queue_depth</c>, <c>tuning_job_duration_seconds</c>, <c>tuning_worker_tokens_per_second</c>,
/// <c>tuning_worker_step_time_seconds</c> and <c>tuning_webhook_deliveries_total</c>. Gauges are read from PostgreSQL
/// at scrape time (<see cref="ServiceStatus"/>), so every Api instance reports the whole service.
/// </summary>
public sealed class TuningMetrics
{
    public const string MeterName = "TuningService.Api";

    private readonly Counter<long> _webhookDeliveries;
    private readonly Histogram<double> _jobDuration;

    public TuningMetrics(IMeterFactory meters, ServiceStatus status)
    {
        var meter = meters.Create(MeterName);
        _webhookDeliveries = meter.CreateCounter<long>("tuning.webhook.deliveries", description: "Webhook delivery attempts by event type and result (success, retrying, failed).");
        _jobDuration = meter.CreateHistogram<double>("tuning.job.duration", unit: "s", description: "Wall time of finished jobs from start to end, by final status and method.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400] });
        meter.CreateObservableGauge("tuning.jobs", () => status.Read().JobsByStatus
            .Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("status", p.Key))), description: "Jobs by status.");
        meter.CreateObservableGauge("tuning.queue.depth", () => status.Read().QueueDepth
            .Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("queue", p.Key))), description: "Hangfire jobs waiting in each queue.");
        meter.CreateObservableGauge("tuning.worker.tokens_per_second", () => status.Read().Workers
            .Where(w => w.TokensPerSecond is not null)
            .Select(w => new Measurement<double>(w.TokensPerSecond!.Value, Tags(w))), description: "Training throughput of each worker's running job, from its latest metrics event.");
        meter.CreateObservableGauge("tuning.worker.step_time", () => status.Read().Workers
            .Where(w => w.StepSeconds is not null)
            .Select(w => new Measurement<double>(w.StepSeconds!.Value, Tags(w))), unit: "s", description: "Seconds per optimizer step of each worker's running job, between its last two metrics events.");
    }

    public void WebhookDelivered(string eventType, string result) =>
        _webhookDeliveries.Add(1, new KeyValuePair<string, object?>("event_type", eventType), new KeyValuePair<string, object?>("result", result));

    public void JobFinished(string status, string method, double seconds) =>
        _jobDuration.Record(seconds, new KeyValuePair<string, object?>("status", status), new KeyValuePair<string, object?>("method", method));

    private static KeyValuePair<string, object?>[] Tags(ServiceStatus.WorkerStatus w) =>
        [new("worker", w.Worker), new("job_id", w.JobId)];
}
