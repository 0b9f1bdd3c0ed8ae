using System.Text.Json;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Jobs;
using TuningService.Domain;
using TuningService.Domain.Jobs;

namespace TuningService.Api.Tests.Jobs;

public sealed class QueuedJobsReconcilerTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    private QueuedJobsReconciler Reconciler => api.GetService<QueuedJobsReconciler>();
    private JobStorage Storage => api.GetService<JobStorage>();

    /// <summary>A queued row as if the API had died right after committing it (never enqueued).</summary>
    private async Task<string> InsertLostJobAsync(TimeSpan age)
    {
        var (projectId, _) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "text");
        var now = DateTimeOffset.UtcNow - age;
        var job = new TrainingJob
        {
            Id = Ids.New("ftjob-"), ProjectId = projectId, Model = "tiny-gpt2", TrainingFileId = file, MethodType = "supervised",
            Spec = JsonDocument.Parse("{}"), CreatedAt = now,
        };
        await using var db = api.CreateDbContext();
        db.Jobs.Add(job);
        db.JobEvents.Add(job.MarkQueued(now));
        await db.SaveChangesAsync();
        return job.Id;
    }

    private async Task<string?> HangfireIdAsync(string jobId)
    {
        await using var db = api.CreateDbContext();
        return (await db.Jobs.SingleAsync(j => j.Id == jobId)).HangfireJobId;
    }

    [Fact]
    public async Task QueuedJobNeverEnqueued_IsEnqueuedByTheReconciler()
    {
        var jobId = await InsertLostJobAsync(TimeSpan.FromMinutes(5));
        await Reconciler.ReconcileAsync(CancellationToken.None);
        var hangfireId = await HangfireIdAsync(jobId);
        Assert.NotNull(hangfireId);
        var data = Storage.GetConnection().GetJobData(hangfireId);
        Assert.Equal("Enqueued", data!.State);
        Assert.Equal(jobId, data.Job.Args[0]);
    }

    [Fact]
    public async Task QueuedJobWhoseHangfireJobWasDeleted_IsEnqueuedAgain()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var jobId = (await client.CreateSupervisedJobAsync(await api.AddFileAsync(projectId, "text"))).Str("id");
        var first = await HangfireIdAsync(jobId);
        api.GetService<IBackgroundJobClient>().Delete(first);

        var reenqueued = await Reconciler.ReconcileAsync(CancellationToken.None);
        Assert.Contains(jobId, reenqueued);
        var second = await HangfireIdAsync(jobId);
        Assert.NotEqual(first, second);
        Assert.Equal("Enqueued", Storage.GetConnection().GetJobData(second!)!.State);
    }

    [Fact]
    public async Task LiveDelivery_IsNotDoubled_EvenByConcurrentPasses()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var live = (await client.CreateSupervisedJobAsync(await api.AddFileAsync(projectId, "text"))).Str("id");
        var lost = await InsertLostJobAsync(TimeSpan.FromMinutes(5));
        var liveDelivery = await HangfireIdAsync(live);

        var passes = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Reconciler.ReconcileAsync(CancellationToken.None)));
        Assert.Equal(liveDelivery, await HangfireIdAsync(live));
        Assert.DoesNotContain(passes, p => p.Contains(live));
        Assert.True(passes.Count(p => p.Contains(lost)) <= 1);

        // Exactly one live Hangfire job carries the lost job's id.
        var monitoring = Storage.GetMonitoringApi();
        var enqueued = monitoring.EnqueuedJobs("training", 0, 10_000).Where(j => (string)j.Value.Job.Args[0] == lost).ToList();
        Assert.Single(enqueued);
    }

    [Fact]
    public async Task FreshQueuedJobWithoutDelivery_IsLeftToItsCreator()
    {
        var jobId = await InsertLostJobAsync(TimeSpan.Zero);
        var reenqueued = await Reconciler.ReconcileAsync(CancellationToken.None);
        Assert.DoesNotContain(jobId, reenqueued);
    }
}
