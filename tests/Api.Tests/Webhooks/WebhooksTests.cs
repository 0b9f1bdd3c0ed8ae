using TuningService.Api.Tests.Infrastructure;
using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Tests.Jobs;
using TuningService.Domain;
using TuningService.Domain.Jobs;

namespace TuningService.Api.Tests.Webhooks;

/// <summary>The API allowed to call 127.0.0.1, with retries a fraction of a second apart instead of 30 s.</summary>
public sealed class WebhooksApiFactory : JobsApiFactory
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        .. base.Settings,
        new("Webhooks:RunDeliveryServer", "true"),
        new("Webhooks:AllowLoopbackTargets", "true"),
        new("Webhooks:RetryBaseDelay", "00:00:00.200"),
        new("Webhooks:SchedulePollingInterval", "00:00:00.500"),
        new("Webhooks:DeliveryWorkers", "2"),
        new("Webhooks:MaxAttempts", "3"),
    ];
}

[Collection(BackgroundServerCollection.Name)]
public sealed class WebhooksTests(WebhooksApiFactory api) : IClassFixture<WebhooksApiFactory>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static async Task<(string Id, string Secret)> SubscribeAsync(HttpClient client, WebhookReceiver receiver, params string[] events)
    {
        var (response, body) = await client.PostJsonAsync("/v1/webhooks", JsonSerializer.Serialize(new { url = receiver.Url, events = events.Length == 0 ? null : events }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("webhook_endpoint", body.Str("object"));
        var secret = body.Str("secret");
        Assert.StartsWith("whsec_", secret);
        receiver.Secret = secret;
        return (body.Str("id"), secret);
    }

    /// <summary>The next webhook, or a failure that shows where it got stuck (outbox row, Hangfire job, delivery log).</summary>
    private async Task<ReceivedWebhook> NextAsync(WebhookReceiver receiver)
    {
        try
        {
            return await receiver.NextAsync(Patience);
        }
        catch (OperationCanceledException)
        {
            await using var connection = new Npgsql.NpgsqlConnection(api.ConnectionString);
            await connection.OpenAsync();
            var report = new System.Text.StringBuilder("No webhook arrived.\n");
            foreach (var sql in new[]
                     {
                         "SELECT id, type, dispatched_at FROM webhook_events ORDER BY id",
                         "SELECT j.id, j.statename, q.queue, j.invocationdata FROM hangfire.job j LEFT JOIN hangfire.jobqueue q ON q.jobid = j.id ORDER BY j.id",
                         "SELECT attempt, status_code, error FROM webhook_deliveries ORDER BY id",
                         "SELECT id, data FROM hangfire.server",
                     })
            {
                await using var command = new Npgsql.NpgsqlCommand(sql, connection);
                await using var reader = await command.ExecuteReaderAsync();
                report.Append(sql).Append('\n');
                while (await reader.ReadAsync())
                    report.Append("  ").AppendJoin(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i)?.ToString())).Append('\n');
            }
            throw new TimeoutException(report.ToString());
        }
    }

    private async Task ChangeJobAsync(string jobId, Func<TrainingJob, JobEvent?> change)
    {
        await using var db = api.CreateDbContext();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
        if (change(job) is { } e) db.JobEvents.Add(e);
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task Webhook_IsSignedPerStandardWebhooks_RetriedAfterA500_AndEveryAttemptIsInTheDeliveryLog()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = n => n == 1 ? 500 : 200;
        var (projectId, client) = await api.CreateProjectAsync();
        var (endpointId, _) = await SubscribeAsync(client, receiver, "fine_tuning.job.running", "fine_tuning.job.succeeded");
        var jobId = (await client.CreateSupervisedJobAsync(await api.AddFileAsync(projectId, "text"))).Str("id");

        // The worker starts the job (another process's transaction): the outbox row commits with the status change.
        await ChangeJobAsync(jobId, j => j.Claim("worker-1", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));

        var first = await NextAsync(receiver);
        var second = await NextAsync(receiver);
        Assert.Equal((500, 200), (first.AnsweredWith, second.AnsweredWith));
        Assert.True(first.Verified && second.Verified, "the StandardWebhooks verifier accepts both signatures");
        Assert.Equal(first.Id, second.Id); // one event, delivered twice: receivers deduplicate by webhook-id
        Assert.StartsWith("v1,", second.Signature);
        var payload = JsonDocument.Parse(second.Body).RootElement;
        Assert.Equal(first.Id, payload.Str("id"));
        Assert.Equal("event", payload.Str("object"));
        Assert.Equal("fine_tuning.job.running", payload.Str("type"));
        Assert.Equal(jobId, payload.GetProperty("data").Str("id"));
        Assert.True(payload.GetProperty("created_at").GetInt64() > 1_700_000_000);

        var log = await DeliveriesAsync(client, endpointId, count: 2);
        Assert.Equal([2, 1], log.Select(d => d.GetProperty("attempt").GetInt32()));
        Assert.Equal(200, log[0].GetProperty("status_code").GetInt32());
        Assert.True(log[0].GetProperty("succeeded").GetBoolean());
        Assert.Equal(JsonValueKind.Null, log[0].GetProperty("next_attempt_at").ValueKind);
        Assert.Equal(500, log[1].GetProperty("status_code").GetInt32());
        Assert.False(log[1].GetProperty("succeeded").GetBoolean());
        Assert.Contains("500", log[1].Str("error"));
        Assert.True(log[1].GetProperty("next_attempt_at").GetInt64() >= log[1].GetProperty("finished_at").GetInt64());
        Assert.All(log, d => Assert.Equal(first.Id, d.Str("event_id")));

        // The job succeeds: the second subscribed type arrives at the first attempt.
        await ChangeJobAsync(jobId, j => j.Succeed(DateTimeOffset.UtcNow, "ft:tiny-gpt2:x", 10, []));
        var succeeded = await NextAsync(receiver);
        Assert.Equal("fine_tuning.job.succeeded", JsonDocument.Parse(succeeded.Body).RootElement.Str("type"));
        Assert.True(succeeded.Verified);

        var metrics = await api.CreateClient(apiKey: null).GetStringAsync("/metrics");
        Assert.Contains("tuning_webhook_deliveries_total{", metrics);
        Assert.Contains("result=\"success\"", metrics);
        Assert.Contains("result=\"retrying\"", metrics);
    }

    [Fact]
    public async Task CancelInTheApi_AndACheckpoint_AreDelivered_OnlyToEndpointsSubscribedToThem()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (projectId, client) = await api.CreateProjectAsync();
        await SubscribeAsync(client, receiver, "fine_tuning.job.cancelled", "fine_tuning.job.checkpoint.created");
        var jobId = (await client.CreateSupervisedJobAsync(await api.AddFileAsync(projectId, "text"))).Str("id");
        await ChangeJobAsync(jobId, j => j.Claim("worker-1", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5))); // running: not subscribed

        await using (var db = api.CreateDbContext())
        {
            db.Checkpoints.Add(new JobCheckpoint
            {
                Id = Ids.New("ftckpt_"), JobId = jobId, Step = 2, ArtifactPath = "x", FineTunedModelCheckpoint = "ft:tiny-gpt2::x:ckpt-step-2",
            });
            await db.SaveChangesAsync();
        }
        var checkpoint = await NextAsync(receiver);
        Assert.Equal("fine_tuning.job.checkpoint.created", JsonDocument.Parse(checkpoint.Body).RootElement.Str("type"));

        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync($"/v1/fine_tuning/jobs/{jobId}/cancel", "")).Response.StatusCode);
        await ChangeJobAsync(jobId, j => j.ConfirmCancelled(DateTimeOffset.UtcNow)); // the worker stops at its next step
        var cancelled = await NextAsync(receiver);
        var payload = JsonDocument.Parse(cancelled.Body).RootElement;
        Assert.Equal("fine_tuning.job.cancelled", payload.Str("type"));
        Assert.Equal(jobId, payload.GetProperty("data").Str("id"));
        Assert.True(cancelled.Verified);
        Assert.False(receiver.TryTake(out _)); // no fine_tuning.job.running
    }

    [Fact]
    public async Task Endpoints_AreListedRetrievedAndDeleted_PerProject_AndTheSecretIsShownOnlyOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (_, client) = await api.CreateProjectAsync();
        var (_, stranger) = await api.CreateProjectAsync();
        var (a, _) = await SubscribeAsync(client, receiver, "fine_tuning.job.failed");
        var (b, _) = await SubscribeAsync(client, receiver);

        var (_, list) = await client.GetJsonAsync("/v1/webhooks");
        Assert.Equal("list", list.Str("object"));
        Assert.Equal([b, a], list.GetProperty("data").EnumerateArray().Select(e => e.Str("id")));
        Assert.False(list.GetProperty("has_more").GetBoolean());
        Assert.All(list.GetProperty("data").EnumerateArray(), e => Assert.False(e.TryGetProperty("secret", out _)));
        var (_, page) = await client.GetJsonAsync($"/v1/webhooks?limit=1&after={b}");
        Assert.Equal(a, page.GetProperty("data")[0].Str("id"));

        var (_, one) = await client.GetJsonAsync($"/v1/webhooks/{b}");
        Assert.Equal(5, one.GetProperty("events").GetArrayLength()); // omitted events = all of them
        Assert.False(one.TryGetProperty("secret", out _));

        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetJsonAsync($"/v1/webhooks/{a}")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetJsonAsync($"/v1/webhooks/{a}/deliveries")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"/v1/webhooks/{a}")).StatusCode);
        Assert.Empty((await stranger.GetJsonAsync("/v1/webhooks")).Body.GetProperty("data").EnumerateArray());

        var deleted = await client.DeleteAsync($"/v1/webhooks/{a}");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.True(JsonDocument.Parse(await deleted.Content.ReadAsStringAsync()).RootElement.GetProperty("deleted").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetJsonAsync($"/v1/webhooks/{a}")).Response.StatusCode);
    }

    /// <summary>Polls the delivery log until it holds <paramref name="count"/> attempts (the row is written after the answer).</summary>
    private static async Task<List<JsonElement>> DeliveriesAsync(HttpClient client, string endpointId, int count)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var (_, body) = await client.GetJsonAsync($"/v1/webhooks/{endpointId}/deliveries");
            var data = body.GetProperty("data").EnumerateArray().ToList();
            if (data.Count >= count || DateTime.UtcNow > deadline) return data;
            await Task.Delay(100);
        }
    }
}

/// <summary>The default configuration: private and loopback targets are refused.</summary>
public sealed class WebhookTargetTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("https://10.1.2.3/hook")]
    [InlineData("https://192.168.0.7/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[::ffff:10.0.0.1]/hook")]
    [InlineData("ftp://example.com/hook")]
    [InlineData("not a url")]
    public async Task Create_RefusesPrivateLoopbackAndNonHttpTargets_With400NamingUrl(string url)
    {
        var (_, client) = await api.CreateProjectAsync();
        var (response, body) = await client.PostJsonAsync("/v1/webhooks", JsonSerializer.Serialize(new { url }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("url", body.Error().Str("param"));
    }

    [Theory]
    [InlineData("""{"url":"https://hooks.example.com/x","events":["fine_tuning.job.exploded"]}""")]
    [InlineData("""{"url":"https://hooks.example.com/x","events":[]}""")]
    public async Task Create_RefusesUnknownOrNoEventTypes_With400NamingEvents(string json)
    {
        var (_, client) = await api.CreateProjectAsync();
        var (response, body) = await client.PostJsonAsync("/v1/webhooks", json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("events", body.Error().Str("param"));
    }
}
