using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Jobs;
using TuningService.Worker.Engine.Checkpoints;

namespace TuningService.Worker.Tests.Runtime;

/// <summary>Crashes, shutdowns, cancel and pause against the real worker executable.</summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class ResilienceTests(RuntimeDatabase database) : IClassFixture<RuntimeDatabase>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private static readonly object Hyperparameters = new { n_epochs = 3, batch_size = 4, learning_rate = 5e-3, checkpoint_interval = 3 };

    [Fact]
    public async Task Run_ResumesFromNewestCheckpoint_WhenWorkerKilledHard_AndEndsWhereAnUninterruptedRunEnds()
    {
        var train = await database.AddFileAsync("prompt_completion", SampleData.Sentiment(32));
        var killed = await database.SubmitAsync("supervised", train, Hyperparameters, seed: 11);

        using (var first = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "doomed"))
        {
            await WaitForCheckpointMidRunAsync(killed, first);
            first.KillHard();
        }
        var stepAtKill = (await database.JobAsync(killed)).Step;
        var newestCheckpoint = (await database.CheckpointsAsync(killed)).Max(c => c.Step);

        using var second = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "rescuer");
        var job = await database.WaitForAsync(killed, j => JobStatus.IsTerminal(j.Status), Timeout, () => second.Output);
        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.Equal(1, job.CrashRestarts);
        var events = await database.EventsAsync(killed);
        Assert.Contains(events, e => e.Message.Contains("taken over by worker rescuer"));
        Assert.Contains(events, e => e.Message == $"Resumed from the checkpoint at step {newestCheckpoint}.");
        Assert.True(newestCheckpoint <= stepAtKill);

        var reference = await database.SubmitAsync("supervised", train, Hyperparameters, seed: 11);
        var uninterrupted = await database.WaitForAsync(reference, j => JobStatus.IsTerminal(j.Status), Timeout, () => second.Output);
        Assert.Equal(JobStatus.Succeeded, uninterrupted.Status);
        await AssertSameWeightsAsync(job.FineTunedModel!, uninterrupted.FineTunedModel!);
    }

    [Fact]
    public async Task Sigterm_CheckpointsAndRequeues_AndAnotherWorkerFinishesTheJob()
    {
        var train = await database.AddFileAsync("prompt_completion", SampleData.Sentiment(32));
        var jobId = await database.SubmitAsync("supervised", train, Hyperparameters);

        using (var first = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "leaving"))
        {
            await database.WaitForAsync(jobId, j => j.Step >= 2, Timeout, () => first.Output);
            Assert.True(first.Terminate(TimeSpan.FromSeconds(30)), "the worker exits within its shutdown window");
        }
        var requeued = await database.JobAsync(jobId);
        Assert.Equal(JobStatus.Queued, requeued.Status);
        Assert.Null(requeued.LeaseOwner);
        var saved = (await database.CheckpointsAsync(jobId)).Max(c => c.Step);
        Assert.Contains(await database.EventsAsync(jobId), e => e.Message.StartsWith("Job requeued: worker leaving is shutting down"));

        using var second = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "arriving");
        var job = await database.WaitForAsync(jobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => second.Output);
        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.Equal(0, job.CrashRestarts);
        Assert.Contains(await database.EventsAsync(jobId), e => e.Message == $"Resumed from the checkpoint at step {saved}.");
    }

    [Fact]
    public async Task CancelOfRunningJob_EndsItCancelled_WithinAStep()
    {
        var train = await database.AddFileAsync("prompt_completion", SampleData.Sentiment(32));
        var jobId = await database.SubmitAsync("supervised", train, new { n_epochs = 20, batch_size = 4 });
        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w-cancel");
        var running = await database.WaitForAsync(jobId, j => j.Step >= 2, Timeout, () => worker.Output);

        await ChangeAsync(jobId, j => j.Cancel(DateTimeOffset.UtcNow));
        var requestedAt = (await database.JobAsync(jobId)).Step;
        var job = await database.WaitForAsync(jobId, j => j.Status == JobStatus.Cancelled, TimeSpan.FromSeconds(30), () => worker.Output);

        Assert.True(job.Step <= requestedAt + 1, $"stopped at step {job.Step}, cancel requested at {requestedAt}");
        Assert.Null(job.FineTunedModel);
        Assert.NotNull(job.FinishedAt);
        Assert.True(running.TotalSteps > job.Step);
    }

    [Fact]
    public async Task PausedJob_Checkpoints_AndResumeContinuesFromThatStep()
    {
        var train = await database.AddFileAsync("prompt_completion", SampleData.Sentiment(32));
        var jobId = await database.SubmitAsync("supervised", train, new { n_epochs = 3, batch_size = 4, checkpoint_interval = 100 });
        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w-pause");
        await database.WaitForAsync(jobId, j => j.Step >= 2, Timeout, () => worker.Output);

        await ChangeAsync(jobId, j => j.Pause(DateTimeOffset.UtcNow));
        var paused = await database.WaitForAsync(jobId, j => j.Status == JobStatus.Paused, TimeSpan.FromSeconds(30), () => worker.Output);
        var checkpoint = Assert.Single(await database.CheckpointsAsync(jobId));
        Assert.Equal(paused.Step, checkpoint.Step);

        await ChangeAsync(jobId, j => j.Resume(DateTimeOffset.UtcNow));
        await database.EnqueueAsync(jobId);
        var job = await database.WaitForAsync(jobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);
        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.Contains(await database.EventsAsync(jobId), e => e.Message == $"Resumed from the checkpoint at step {checkpoint.Step}.");
    }

    [Fact]
    public async Task JobFailsWithWorkerCrashed_AfterTheCrashRestartBound()
    {
        var train = await database.AddFileAsync("prompt_completion", SampleData.Sentiment(32));
        var jobId = await database.SubmitAsync("supervised", train, Hyperparameters);
        using (var first = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "crash-1"))
        {
            await database.WaitForAsync(jobId, j => j.Step >= 1, Timeout, () => first.Output);
            first.KillHard();
        }
        using var second = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "crash-2",
            new Dictionary<string, string> { ["Worker__MaxCrashRestarts"] = "0" });
        var job = await database.WaitForAsync(jobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => second.Output);
        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Equal("worker_crashed", job.ErrorCode);
    }

    private async Task WaitForCheckpointMidRunAsync(string jobId, WorkerProcess worker)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            var job = await database.JobAsync(jobId);
            if ((await database.CheckpointsAsync(jobId)).Count > 0 && job.Step > 3 && job.Step < job.TotalSteps - 4) return;
            Assert.False(JobStatus.IsTerminal(job.Status), $"job ended before the kill: {job.Status}\n{worker.Output}");
            await Task.Delay(100);
        }
        throw new TimeoutException(worker.Output);
    }

    /// <summary>What the API does on cancel, pause and resume: a domain transition saved with the concurrency token, retried on a race.</summary>
    private async Task ChangeAsync(string jobId, Func<TrainingJob, JobEvent> transition)
    {
        for (var attempt = 0; ; attempt++)
        {
            await using var db = database.CreateDbContext();
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
            db.JobEvents.Add(transition(job));
            try
            {
                await db.SaveChangesAsync();
                return;
            }
            catch (DbUpdateConcurrencyException) when (attempt < 20) { }
        }
    }

    private async Task AssertSameWeightsAsync(string modelA, string modelB)
    {
        await using var db = database.CreateDbContext();
        string Dir(string id) => Path.Combine(database.ArtifactsRoot, db.Models.Single(m => m.Id == id).ArtifactPath, "model.safetensors");
        var a = Safetensors.Read(Dir(modelA));
        var b = Safetensors.Read(Dir(modelB));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, tensor) in a)
            Assert.True(tensor.allclose(b[name], rtol: 1e-4, atol: 1e-5), $"{name} differs between the resumed and the uninterrupted run");
    }
}
