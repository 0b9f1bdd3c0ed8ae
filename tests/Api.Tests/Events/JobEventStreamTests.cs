using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Tests.Jobs;
using TuningService.Domain.Jobs;
using Xunit.Abstractions;

namespace TuningService.Api.Tests.Events;

/// <summary>
/// The API with a heartbeat longer than any test, so every event a test receives was woken by a PostgreSQL
/// notification (a heartbeat also re-reads), and the latency printed is that of LISTEN/NOTIFY.
/// </summary>
public sealed class EventStreamApiFactory : JobsApiFactory
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [.. base.Settings, new("EventStream:HeartbeatInterval", "00:10:00")];
}

/// <summary>The API with a short heartbeat, so a test sees one without waiting 15 s.</summary>
public sealed class ShortHeartbeatApiFactory : JobsApiFactory
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [.. base.Settings, new("EventStream:HeartbeatInterval", "00:00:00.300")];
}

public sealed class JobEventStreamHeartbeatTests(ShortHeartbeatApiFactory api) : IClassFixture<ShortHeartbeatApiFactory>
{
    [Fact]
    public async Task Stream_SendsKeepAliveComments_WhileNothingHappens()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var jobId = (await client.CreateSupervisedJobAsync(await api.AddFileAsync(projectId, "text"))).Str("id");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var response = await client.GetAsync($"/v1/fine_tuning/jobs/{jobId}/events?stream=true", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        SseMessage? message;
        do message = await reader.ReadAsync(timeout.Token);
        while (message is { Comment: null });
        Assert.Equal("keep-alive", message!.Comment);
    }
}

/// <summary>
/// <c>GET /v1/fine_tuning/jobs/{id}/events?stream=true</c>. Events are written on connections of their own, as the
/// worker writes them from another process; the stream must pick them up through PostgreSQL.
/// </summary>
public sealed class JobEventStreamTests(EventStreamApiFactory api, ITestOutputHelper output) : IClassFixture<EventStreamApiFactory>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task<(HttpClient Client, string JobId)> QueuedJobAsync()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var job = await client.CreateSupervisedJobAsync(await api.AddFileAsync(projectId, "text"));
        return (client, job.Str("id"));
    }

    /// <summary>Changes the job as the worker would, in a transaction of its own.</summary>
    private async Task<long> WorkerWritesAsync(string jobId, Func<TrainingJob, JobEvent> change)
    {
        await using var db = api.CreateDbContext();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
        var e = change(job);
        db.JobEvents.Add(e);
        await db.SaveChangesAsync();
        return e.Id;
    }

    private static JobEvent Metrics(TrainingJob job, int step) =>
        job.RecordMetrics(DateTimeOffset.UtcNow, JsonDocument.Parse($$"""{"step":{{step}},"total_steps":4,"train_loss":{{3.0 / step}},"tokens_per_second":1200}"""), $"Step {step}/4");

    private static async Task<(HttpResponseMessage Response, SseReader Reader)> OpenAsync(HttpClient client, string jobId, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/fine_tuning/jobs/{jobId}/events?stream=true");
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return (response, new SseReader(await response.Content.ReadAsStreamAsync()));
    }

    [Fact]
    public async Task Stream_SendsExistingEventsOldestFirst_ThenEachNewOneAsWritten_AndEndsWhenTheJobSucceeds()
    {
        var (client, jobId) = await QueuedJobAsync();
        using var timeout = new CancellationTokenSource(Patience);
        var ct = timeout.Token;
        var (response, reader) = await OpenAsync(client, jobId);
        using var _ = reader;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var first = await reader.ReadEventAsync(ct);
        var second = await reader.ReadEventAsync(ct);
        Assert.StartsWith("Validating training file", Data(first!).GetProperty("message").GetString());
        Assert.Equal("Job queued.", Data(second!).GetProperty("message").GetString());
        Assert.Equal(Data(first!).GetProperty("id").GetString(), first!.Id);

        // The worker claims the job and reports metrics; each arrives while the stream is open.
        var latencies = new List<double>();
        foreach (var write in new Func<TrainingJob, JobEvent>[]
                 {
                     j => j.Claim("worker-1", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5))!,
                     j => Metrics(j, 1), j => Metrics(j, 2), j => Metrics(j, 3),
                 })
        {
            var clock = Stopwatch.StartNew();
            var id = await WorkerWritesAsync(jobId, write);
            var received = await reader.ReadEventAsync(ct);
            latencies.Add(clock.Elapsed.TotalMilliseconds);
            Assert.Equal($"ftevent-{id}", received!.Id);
        }
        output.WriteLine($"commit-to-receipt latency (ms): {string.Join(", ", latencies.Select(l => l.ToString("0.0")))}");

        var metrics = Data((await WriteAndReadAsync(jobId, j => Metrics(j, 4), reader, ct))!);
        Assert.Equal("metrics", metrics.GetProperty("type").GetString());
        Assert.Equal(4, metrics.GetProperty("data").GetProperty("step").GetInt32());

        var succeeded = await WorkerWritesAsync(jobId, j => j.Succeed(DateTimeOffset.UtcNow, "ft:tiny-gpt2:x", 100, []));
        Assert.Equal($"ftevent-{succeeded}", (await reader.ReadEventAsync(ct))!.Id);
        var done = await reader.ReadEventAsync(ct);
        Assert.Equal("done", done!.Event);
        Assert.Equal("succeeded", JsonDocument.Parse(done.Data!).RootElement.GetProperty("status").GetString());
        Assert.Null(await reader.ReadAsync(ct)); // the server closed the stream
    }

    private async Task<SseMessage?> WriteAndReadAsync(string jobId, Func<TrainingJob, JobEvent> write, SseReader reader, CancellationToken ct)
    {
        await WorkerWritesAsync(jobId, write);
        return await reader.ReadEventAsync(ct);
    }

    [Fact]
    public async Task Stream_ResumesAfterLastEventId_AndEndsAtOnceForAFinishedJob()
    {
        var (client, jobId) = await QueuedJobAsync();
        await WorkerWritesAsync(jobId, j => j.Claim("worker-1", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5))!);
        await WorkerWritesAsync(jobId, j => Metrics(j, 1));
        await WorkerWritesAsync(jobId, j => j.Fail(DateTimeOffset.UtcNow, new JobError("training_diverged", "Loss became NaN.")));
        var (_, all) = await client.GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}/events?limit=100");
        var ids = all.GetProperty("data").EnumerateArray().Select(e => e.Str("id")).Reverse().ToList(); // oldest first

        using var timeout = new CancellationTokenSource(Patience);
        var (_, reader) = await OpenAsync(client, jobId, lastEventId: ids[1]);
        using var _ = reader;
        var resumed = new List<string>();
        SseMessage? message;
        while ((message = await reader.ReadEventAsync(timeout.Token)) is { Event: null }) resumed.Add(message.Id!);
        Assert.Equal(ids[2..], resumed);
        Assert.Equal("done", message!.Event);
        Assert.Equal("failed", JsonDocument.Parse(message.Data!).RootElement.GetProperty("status").GetString());

        // The same through the query string, with the bare number.
        var (_, fromQuery) = await client.GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}/events?stream=false&limit=1");
        Assert.Equal(ids[^1], fromQuery.GetProperty("data")[0].Str("id"));
        var response = await client.GetAsync($"/v1/fine_tuning/jobs/{jobId}/events?stream=true&after={ids[^2]["ftevent-".Length..]}", timeout.Token);
        var text = await response.Content.ReadAsStringAsync(timeout.Token);
        Assert.Contains($"id: {ids[^1]}\n", text);
        Assert.DoesNotContain($"id: {ids[^2]}\n", text);
        Assert.EndsWith("event: done\ndata: {\"status\":\"failed\"}\n\n", text);
    }

    [Fact]
    public async Task Stream_OfAnotherProjectsJob_Is404_AndABadLastEventId_Is400_InTheErrorShape()
    {
        var (_, jobId) = await QueuedJobAsync();
        var (_, stranger) = await api.CreateProjectAsync();
        var (response, body) = await stranger.GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}/events?stream=true");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found", body.Error().Str("code"));

        var (owner, ownJob) = await QueuedJobAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/fine_tuning/jobs/{ownJob}/events?stream=true");
        request.Headers.Add("Last-Event-ID", "yesterday");
        var bad = await owner.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var error = (await bad.Content.ReadFromJsonAsync<JsonElement>()).Error();
        Assert.Equal("Last-Event-ID", error.Str("param"));
        Assert.Equal("invalid_cursor", error.Str("code"));
    }

    [Fact]
    public async Task Swagger_DocumentsTheEventStream()
    {
        var doc = await api.CreateClient(apiKey: null).GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var get = doc.GetProperty("paths").GetProperty("/v1/fine_tuning/jobs/{id}/events").GetProperty("get");
        Assert.Contains(get.GetProperty("parameters").EnumerateArray(), p => p.Str("name") == "stream");
        Assert.True(get.GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/event-stream", out _));
    }

    private static JsonElement Data(SseMessage message) => JsonDocument.Parse(message.Data!).RootElement;
}
