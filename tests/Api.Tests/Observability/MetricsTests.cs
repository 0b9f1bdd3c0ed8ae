using TuningService.Api.Tests.Infrastructure;
using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Tests.Jobs;
using TuningService.Domain.Jobs;

namespace TuningService.Api.Tests.Observability;

/// <summary>The API with the webhook dispatcher running: it records job durations as it takes the outbox rows.</summary>
public sealed class DispatchingApiFactory : JobsApiFactory
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => 
        [.. base.Settings, new("Webhooks:RunDeliveryServer", "true"), new("Webhooks:DeliveryWorkers", "1")];
}

[Collection(BackgroundServerCollection.Name)]
public sealed class MetricsTests(DispatchingApiFactory api) : IClassFixture<DispatchingApiFactory>
{
    private async Task ChangeJobAsync(string jobId, Func<TrainingJob, JobEvent?> change)
    {
        await using var db = api.CreateDbContext();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
        if (change(job) is { } e) db.JobEvents.Add(e);
        await db.SaveChangesAsync();
    }

    private static JobEvent Metrics(TrainingJob job, int step, DateTimeOffset at) =>
        job.RecordMetrics(at, JsonDocument.Parse($$"""{"step":{{step}},"total_steps":10,"train_loss":1.5,"tokens_per_second":2048.5}"""), $"Step {step}/10");

    [Fact]
    public async Task Metrics_ArePrometheusText_WithJobsQueueWorkerThroughputHttpAndJobDuration()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "text");
        var running = (await client.CreateSupervisedJobAsync(file)).Str("id");
        var finished = (await client.CreateSupervisedJobAsync(file)).Str("id");
        var start = DateTimeOffset.UtcNow;
        await ChangeJobAsync(running, j => j.Claim("gpu-worker-7", start, TimeSpan.FromMinutes(5)));
        await ChangeJobAsync(running, j => Metrics(j, 10, start.AddSeconds(1)));
        await ChangeJobAsync(running, j => Metrics(j, 20, start.AddSeconds(6))); // 10 steps in 5 s
        await ChangeJobAsync(finished, j => j.Claim("gpu-worker-8", start, TimeSpan.FromMinutes(5)));
        await ChangeJobAsync(finished, j => j.Succeed(DateTimeOffset.UtcNow, "ft:tiny-gpt2:y", 10, []));

        var anonymous = api.CreateClient(apiKey: null);
        // The job duration is recorded when the dispatcher takes the job's outbox row; wait for that (and for a status
        // read that succeeded: a database that cannot be read at scrape time yields empty gauges for a moment).
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string text;
        do
        {
            var response = await anonymous.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
            text = await response.Content.ReadAsStringAsync();
            if (text.Contains("tuning_job_duration_seconds_count") && text.Contains("tuning_worker_step_time_seconds")) break;
            await Task.Delay(250);
        } while (DateTime.UtcNow < deadline);

        Assert.Matches("""tuning_jobs\{[^}]*status="running"[^}]*\} [1-9]""", text);
        Assert.Matches("""tuning_jobs\{[^}]*status="succeeded"[^}]*\} [1-9]""", text);
        Assert.Matches("""tuning_queue_depth\{[^}]*queue="training"[^}]*\} \d""", text);
        Assert.Matches("""tuning_worker_tokens_per_second\{[^}]*worker="gpu-worker-7"[^}]*\} 2048\.5""", text);
        Assert.Matches("""tuning_worker_step_time_seconds\{[^}]*worker="gpu-worker-7"[^}]*\} 0\.5""", text);
        Assert.Matches("""tuning_job_duration_seconds_count\{[^}]*status="succeeded"[^}]*\} 1""", text);
        Assert.Contains("http_server_request_duration_seconds_bucket{", text);
    }
}
