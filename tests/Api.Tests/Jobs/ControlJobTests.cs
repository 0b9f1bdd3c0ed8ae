using System.Net;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Jobs;

namespace TuningService.Api.Tests.Jobs;

public sealed class ControlJobTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    private async Task<(HttpClient Client, string JobId)> QueuedJobAsync()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var job = await client.CreateSupervisedJobAsync(await api.AddFileAsync(projectId, "text"));
        return (client, job.Str("id"));
    }

    private async Task ClaimAsync(string jobId)
    {
        await using var db = api.CreateDbContext();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
        db.JobEvents.Add(job.Claim("worker-1", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5))!);
        await db.SaveChangesAsync();
    }

    private static Task<(HttpResponseMessage Response, System.Text.Json.JsonElement Body)> Post(HttpClient client, string jobId, string action) =>
        client.PostJsonAsync($"/v1/fine_tuning/jobs/{jobId}/{action}", "");

    [Fact]
    public async Task Cancel_OfAQueuedJob_CancelsItAtOnce_AndWithdrawsItsDelivery()
    {
        var (client, jobId) = await QueuedJobAsync();
        var (response, body) = await Post(client, jobId, "cancel");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("cancelled", body.Str("status"));
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, body.GetProperty("finished_at").ValueKind);

        await using var db = api.CreateDbContext();
        var row = await db.Jobs.SingleAsync(j => j.Id == jobId);
        Assert.Equal("Deleted", api.GetService<JobStorage>().GetConnection().GetJobData(row.HangfireJobId!)!.State);
    }

    [Fact]
    public async Task Cancel_OfARunningJob_FlagsIt_StatusStaysRunning()
    {
        var (client, jobId) = await QueuedJobAsync();
        await ClaimAsync(jobId);
        var (response, body) = await Post(client, jobId, "cancel");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("running", body.Str("status"));
        await using var db = api.CreateDbContext();
        Assert.True((await db.Jobs.SingleAsync(j => j.Id == jobId)).CancelRequested);
    }

    [Fact]
    public async Task PauseThenResume_OfAQueuedJob_PausesAndRequeues_WithANewDelivery()
    {
        var (client, jobId) = await QueuedJobAsync();
        string? firstDelivery;
        await using (var db = api.CreateDbContext()) firstDelivery = (await db.Jobs.SingleAsync(j => j.Id == jobId)).HangfireJobId;

        Assert.Equal("paused", (await Post(client, jobId, "pause")).Body.Str("status"));
        var (response, body) = await Post(client, jobId, "resume");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("queued", body.Str("status"));

        await using var db2 = api.CreateDbContext();
        var row = await db2.Jobs.SingleAsync(j => j.Id == jobId);
        Assert.NotEqual(firstDelivery, row.HangfireJobId);
        Assert.Equal("Enqueued", api.GetService<JobStorage>().GetConnection().GetJobData(row.HangfireJobId!)!.State);
    }

    [Fact]
    public async Task Pause_OfARunningJob_FlagsIt()
    {
        var (client, jobId) = await QueuedJobAsync();
        await ClaimAsync(jobId);
        Assert.Equal("running", (await Post(client, jobId, "pause")).Body.Str("status"));
        await using var db = api.CreateDbContext();
        Assert.True((await db.Jobs.SingleAsync(j => j.Id == jobId)).PauseRequested);
    }

    [Theory]
    [InlineData("resume", "queued")]      // only a paused job resumes
    [InlineData("cancel", "cancelled")]   // a finished job stays finished
    [InlineData("pause", "cancelled")]
    [InlineData("resume", "cancelled")]
    [InlineData("pause", "paused")]
    public async Task IllegalMove_Is409WithAClearMessage(string action, string status)
    {
        var (client, jobId) = await QueuedJobAsync();
        if (status == "cancelled") await Post(client, jobId, "cancel");
        if (status == "paused") await Post(client, jobId, "pause");

        var (response, body) = await Post(client, jobId, action);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("invalid_state", body.Error().Str("code"));
        Assert.Contains($"is {status}", body.Error().Str("message"));
    }

    [Fact]
    public async Task EveryTransition_AppendsAnEvent()
    {
        var (client, jobId) = await QueuedJobAsync();
        await Post(client, jobId, "pause");
        await Post(client, jobId, "resume");
        await Post(client, jobId, "cancel");
        await using var db = api.CreateDbContext();
        var messages = await db.JobEvents.Where(e => e.JobId == jobId).OrderBy(e => e.Id).Select(e => e.Message).ToListAsync();
        Assert.Equal(5, messages.Count);
        Assert.Equal("Job cancelled.", messages[^1]);
        Assert.Equal(JobStatus.Cancelled, (await db.Jobs.SingleAsync(j => j.Id == jobId)).Status);
    }
}
