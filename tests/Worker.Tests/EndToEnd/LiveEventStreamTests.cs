using System.Net;
using System.Text.Json;
using TuningService.Worker.Tests.Runtime;

namespace TuningService.Worker.Tests.EndToEnd;

/// <summary>
/// <c>GET /v1/fine_tuning/jobs/{id}/events?stream=true</c> against a real worker process: the worker writes events to
/// PostgreSQL, the in-process API streams them as they are committed.
/// </summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class LiveEventStreamTests(ServiceHost service) : IClassFixture<ServiceHost>
{
    [Fact]
    public async Task EventStream_DeliversMetricsWhileTheJobTrains_OldestFirst_AndEndsWhenItSucceeds()
    {
        var training = await service.UploadAsync("sentiment.jsonl", SampleData.Sentiment(48));
        var jobId = (await service.CreateJobAsync(new
        {
            model = "tiny-gpt2", training_file = training, seed = 3,
            method = new { type = "supervised", supervised = new { hyperparameters = new { n_epochs = 3, batch_size = 8, learning_rate = 1e-2 } } },
        })).GetProperty("id").GetString()!;

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var response = await service.Http.GetAsync($"/v1/fine_tuning/jobs/{jobId}/events?stream=true", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));

        using var worker = service.StartWorker("sse-1");
        var streamed = new List<JsonElement>();
        string? statusWhenFirstMetricsArrived = null, done = null;
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: done", StringComparison.Ordinal))
            {
                done = (await reader.ReadLineAsync(timeout.Token))!["data: ".Length..];
                continue;
            }
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var e = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
            streamed.Add(e);
            if (statusWhenFirstMetricsArrived is null && e.GetProperty("type").GetString() == "metrics")
                statusWhenFirstMetricsArrived = (await service.GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}")).GetProperty("status").GetString();
        }

        Assert.Equal("running", statusWhenFirstMetricsArrived); // it came while the job trained, not after
        Assert.Equal("succeeded", JsonDocument.Parse(done!).RootElement.GetProperty("status").GetString());
        var steps = streamed.Where(e => e.GetProperty("type").GetString() == "metrics")
            .Select(e => e.GetProperty("data").GetProperty("step").GetInt32()).ToList();
        Assert.True(steps.Count >= 6, string.Join(", ", steps));
        Assert.Equal(steps.Order(), steps);

        // Exactly the events of the JSON listing (newest first there), each once, oldest first here.
        var listed = (await service.GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}/events?limit=100")).GetProperty("data")
            .EnumerateArray().Select(e => e.GetProperty("id").GetString()).Reverse();
        Assert.Equal(listed, streamed.Select(e => e.GetProperty("id").GetString()));
    }
}
