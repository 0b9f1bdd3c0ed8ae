using System.Text.Json;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TuningService.Domain;
using TuningService.Domain.Jobs;
using TuningService.Domain.Queue;

namespace TuningService.Api.Tests.Jobs;

/// <summary>
/// The <see cref="DeliveryReconciler"/> (hosted by every worker) over the API's database and queue: jobs the API
/// committed but never delivered, deliveries that were lost, and running jobs whose worker died.
/// </summary>
public sealed class QueuedJobsReconcilerTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    private DeliveryReconciler Reconciler { get; } = NewReconciler(api);
    private JobStorage Storage => api.GetService<JobStorage>();

    /// <summary>A reconciler as one worker process runs it; several stand for several processes.</summary>
    private static DeliveryReconciler NewReconciler(JobsApiFactory api) => new(
        api.GetService<IServiceScopeFactory>(), Options.Create(new DeliveryOptions()), TimeProvider.System, NullLogger<DeliveryReconciler>.Instance);

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

    [Fact]
    public async Task RunningJobWhoseLeaseExpired_IsDeliveredOnce_EvenByRacingReconcilers()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var jobId = (await client.CreateSupervisedJobAsync(await api.AddFileAsync(projectId, "text"))).Str("id");
        var deadDelivery = (await HangfireIdAsync(jobId))!;
        // A worker fetched the delivery, claimed the job and died: its lease ran out a while ago, its Hangfire job stays "Processing".
        await using (var db = api.CreateDbContext())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
            db.JobEvents.Add(job.Claim("dead-worker", DateTimeOffset.UtcNow - TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(30))!);
            await db.SaveChangesAsync();
        }
        Assert.True(api.GetService<IBackgroundJobClient>().ChangeState(deadDelivery, new ProcessingOnDeadServer(), EnqueuedState.StateName));

        var passes = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => NewReconciler(api).ReconcileAsync(CancellationToken.None)));

        Assert.Equal(1, passes.Count(p => p.Contains(jobId)));
        var redelivery = await HangfireIdAsync(jobId);
        Assert.NotEqual(deadDelivery, redelivery);
        var waiting = Storage.GetMonitoringApi().EnqueuedJobs("training", 0, 10_000)
            .Where(j => (string)j.Value.Job.Args[0] == jobId && j.Value.State == EnqueuedState.StateName).ToList();
        Assert.Equal(redelivery, Assert.Single(waiting).Key);
        // The reconciler delivers; it does not touch the lease: the claim of whichever worker takes the delivery takes the job over.
        await using (var db = api.CreateDbContext())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
            Assert.Equal(JobStatus.Running, job.Status);
            Assert.Equal("dead-worker", job.LeaseOwner);
            Assert.NotNull(job.Claim("rescuer", DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30)));
            Assert.Equal(1, job.CrashRestarts);
        }

        // Once delivered, later passes leave the waiting delivery alone.
        Assert.DoesNotContain(jobId, await NewReconciler(api).ReconcileAsync(CancellationToken.None));
    }

    /// <summary>Hangfire's processing state as a worker that then died leaves it (ProcessingState's constructor is Hangfire's own).</summary>
    private sealed class ProcessingOnDeadServer : IState
    {
        public string Name => ProcessingState.StateName;
        public string Reason => "fetched by a worker that died";
        public bool IsFinal => false;
        public bool IgnoreJobLoadException => false;
        public Dictionary<string, string> SerializeData() => new() { ["ServerId"] = "dead-server", ["WorkerId"] = "worker-1", ["StartedAt"] = "0" };
    }
}
