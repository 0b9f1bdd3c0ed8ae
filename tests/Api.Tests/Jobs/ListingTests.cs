using System.Net;
using System.Text.Json;
using TuningService.Domain;
using TuningService.Domain.Jobs;

namespace TuningService.Api.Tests.Jobs;

public sealed class ListingTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    [Fact]
    public async Task ListJobs_PagesNewestFirst_WithHasMoreAndAfterCursor()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "text");
        var created = new List<string>();
        for (var i = 0; i < 5; i++) created.Add((await client.CreateSupervisedJobAsync(file)).Str("id"));
        created.Reverse(); // newest first

        var (_, page1) = await client.GetJsonAsync("/v1/fine_tuning/jobs?limit=2");
        Assert.Equal("list", page1.Str("object"));
        Assert.True(page1.GetProperty("has_more").GetBoolean());
        Assert.Equal(created[..2], Ids(page1));
        Assert.Equal(created[1], page1.Str("last_id"));

        var (_, page2) = await client.GetJsonAsync($"/v1/fine_tuning/jobs?limit=2&after={page1.Str("last_id")}");
        Assert.Equal(created[2..4], Ids(page2));
        Assert.True(page2.GetProperty("has_more").GetBoolean());

        var (_, page3) = await client.GetJsonAsync($"/v1/fine_tuning/jobs?limit=2&after={page2.Str("last_id")}");
        Assert.Equal(created[4..], Ids(page3));
        Assert.False(page3.GetProperty("has_more").GetBoolean());

        var (_, all) = await client.GetJsonAsync("/v1/fine_tuning/jobs");
        Assert.Equal(created, Ids(all));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("after=ftjob-nope", "after")]
    public async Task ListJobs_WithBadPaging_Is400(string query, string param)
    {
        var (_, client) = await api.CreateProjectAsync();
        var (response, body) = await client.GetJsonAsync($"/v1/fine_tuning/jobs?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, body.Error().Str("param"));
    }

    [Fact]
    public async Task ListJobs_FiltersByMetadata()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "text");
        var a = (await client.CreateSupervisedJobAsync(file, ""","metadata":{"team":"search","env":"prod"}""")).Str("id");
        var b = (await client.CreateSupervisedJobAsync(file, ""","metadata":{"team":"search","env":"dev"}""")).Str("id");
        await client.CreateSupervisedJobAsync(file, ""","metadata":{"team":"ads"}""");
        await client.CreateSupervisedJobAsync(file);

        Assert.Equal([b, a], Ids((await client.GetJsonAsync("/v1/fine_tuning/jobs?metadata[team]=search")).Body));
        Assert.Equal([a], Ids((await client.GetJsonAsync("/v1/fine_tuning/jobs?metadata[team]=search&metadata[env]=prod")).Body));
        Assert.Empty(Ids((await client.GetJsonAsync("/v1/fine_tuning/jobs?metadata[team]=none")).Body));
        Assert.Equal([a], Ids((await client.GetJsonAsync("/v1/fine_tuning/jobs?metadata%5Bteam%5D=search&limit=1&after=" + b)).Body));
    }

    [Fact]
    public async Task Events_AreNewestFirst_InOpenAiShape_AndPage()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var jobId = (await client.CreateSupervisedJobAsync(await api.AddFileAsync(projectId, "text"))).Str("id");
        await using (var db = api.CreateDbContext())
        {
            var job = db.Jobs.Single(j => j.Id == jobId);
            db.JobEvents.Add(job.RecordMetrics(DateTimeOffset.UtcNow, JsonDocument.Parse("""{"step":1,"train_loss":2.5}"""), "Step 1: train loss 2.5"));
            await db.SaveChangesAsync();
        }

        var (_, events) = await client.GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}/events");
        var data = events.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(3, data.Count);
        Assert.Equal("fine_tuning.job.event", data[0].Str("object"));
        Assert.StartsWith("ftevent-", data[0].Str("id"));
        Assert.Equal("metrics", data[0].Str("type"));
        Assert.Equal(2.5, data[0].GetProperty("data").GetProperty("train_loss").GetDouble());
        Assert.Equal(("message", "info", "Job queued."), (data[1].Str("type"), data[1].Str("level"), data[1].Str("message")));
        Assert.True(data[0].GetProperty("created_at").GetInt64() > 0);

        var (_, page) = await client.GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}/events?limit=1&after={data[0].Str("id")}");
        Assert.Equal(data[1].Str("id"), page.GetProperty("data")[0].Str("id"));
        Assert.True(page.GetProperty("has_more").GetBoolean());
    }

    [Fact]
    public async Task Checkpoints_AreNewestFirst_WithOpenAiMetrics()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var jobId = (await client.CreateSupervisedJobAsync(await api.AddFileAsync(projectId, "text"))).Str("id");
        await using (var db = api.CreateDbContext())
        {
            foreach (var step in new[] { 10, 20 })
                db.Checkpoints.Add(new JobCheckpoint
                {
                    Id = TuningService.Domain.Ids.New("ftckpt-"), JobId = jobId, Step = step, ArtifactPath = $"ckpt/{step}",
                    FineTunedModelCheckpoint = $"ft:tiny-gpt2::{jobId}:ckpt-step-{step}",
                    Metrics = JsonDocument.Parse($$"""{"step":{{step}},"train_loss":1.5,"valid_loss":1.7,"train_mean_token_accuracy":0.4,"valid_mean_token_accuracy":0.6}"""),
                });
            await db.SaveChangesAsync();
        }

        var (_, list) = await client.GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}/checkpoints");
        var data = list.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([20, 10], data.Select(c => c.GetProperty("step_number").GetInt32()));
        var first = data[0];
        Assert.Equal("fine_tuning.job.checkpoint", first.Str("object"));
        Assert.Equal(jobId, first.Str("fine_tuning_job_id"));
        Assert.EndsWith(":ckpt-step-20", first.Str("fine_tuned_model_checkpoint"));
        var metrics = first.GetProperty("metrics");
        Assert.Equal((20.0, 1.5, 1.7, 0.4), (metrics.GetProperty("step").GetDouble(), metrics.GetProperty("train_loss").GetDouble(),
            metrics.GetProperty("valid_loss").GetDouble(), metrics.GetProperty("train_mean_token_accuracy").GetDouble()));
        Assert.Equal(0.6, metrics.GetProperty("valid_mean_token_accuracy").GetDouble());
        Assert.False(list.GetProperty("has_more").GetBoolean());
    }

    private static List<string> Ids(JsonElement list) => list.GetProperty("data").EnumerateArray().Select(j => j.Str("id")).ToList();
}
