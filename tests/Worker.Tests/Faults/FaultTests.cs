using System.Text.Json;
using TuningService.Domain.Jobs;
using TuningService.Testing;
using TuningService.Worker.Tests.Runtime;

namespace TuningService.Worker.Tests.Faults;

/// <summary>
/// Tests that restart the shared PostgreSQL cluster: nothing may run beside them (every test class of this process uses
/// the same cluster), and each brings the cluster back in <c>finally</c>.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PostgresRestartCollection
{
    public const string Name = "PostgreSQL restart (worker)";
}

/// <summary>The real worker process while PostgreSQL restarts under it, and while its artifact store cannot be written.</summary>
[Collection(PostgresRestartCollection.Name)]
public sealed class FaultTests(RuntimeDatabase database) : IClassFixture<RuntimeDatabase>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [OwnedPostgresFact]
    public async Task PostgresRestartMidTraining_JobStillSucceeds_WithEveryStepsMetricsEvent()
    {
        var train = await database.AddFileAsync("prompt_completion", SampleData.Sentiment(32));
        var jobId = await database.SubmitAsync("supervised", train, new { n_epochs = 6, batch_size = 4, checkpoint_interval = 8 });
        // A lease longer than the outage: the worker is expected to keep the job, not to lose it to a take-over after the delivery reconciler re-delivers it.
        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w-pg-restart",
            new Dictionary<string, string> { ["Worker__LeaseSeconds"] = "20" });
        var before = await database.WaitForAsync(jobId, j => j.Step >= 4, Timeout, () => worker.Output);
        Assert.True(before.Step < before.TotalSteps / 2, $"training too fast to restart mid-run: step {before.Step}/{before.TotalSteps}");

        try
        {
            PostgresServer.Instance.Stop(clearPools: false);
            await Task.Delay(TimeSpan.FromSeconds(3)); // the worker keeps stepping (and failing to write) while the server is down
        }
        finally
        {
            PostgresServer.Instance.StartAgain(clearPools: true);
        }

        var job = await database.WaitForAsync(jobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);
        Assert.True(job.Status == JobStatus.Succeeded, $"{job.Status} {job.ErrorCode}: {job.ErrorMessage}\n{worker.Output}");
        Assert.False(worker.HasExited);

        var events = await database.EventsAsync(jobId);
        var steps = events.Where(e => e.Type == EventTypes.Metrics).Select(e => e.Data!.RootElement.GetProperty("step").GetInt32()).ToHashSet();
        // The same run carried on through the outage: no take-over, no second attempt, and not one step's metrics event lost.
        Assert.Equal(0, job.CrashRestarts);
        Assert.DoesNotContain(events, e => e.Message.StartsWith("Resumed from the checkpoint", StringComparison.Ordinal));
        var missing = Enumerable.Range(1, job.TotalSteps).Where(s => !steps.Contains(s)).ToList();
        Assert.True(missing.Count == 0, $"metrics events missing for steps {string.Join(",", missing)}\n{worker.Output}");
        Assert.Contains(events, e => e.Message == "The job has successfully completed.");
        Assert.Contains(events, e => e.Type == EventTypes.Metrics && e.Data!.RootElement.GetProperty("step").GetInt32() == job.TotalSteps);
        Assert.Equal(job.TotalSteps, job.Step);
    }

    [Fact]
    public async Task UnwritableArtifactStore_FailsTheJobWithArtifactStoreUnavailable_AndTheWorkerTakesTheNextJobOnceItIsFixed()
    {
        // Root ignores permissions, so the store is made unwritable structurally: its root lies below a regular file.
        using var scratch = new TempDirectory("tuning-unwritable-");
        var parent = scratch.Path;
        var blocker = Path.Combine(parent, "blocker");
        await File.WriteAllTextAsync(blocker, "a file where a directory should be");
        var root = Path.Combine(blocker, "artifacts");

        var train = await database.AddFileAsync("prompt_completion", SampleData.Sentiment(16));
        var first = await database.SubmitAsync("supervised", train, new { n_epochs = 1, batch_size = 4 });
        using var worker = WorkerProcess.Start(database.ConnectionString, root, "w-store");
        var failed = await database.WaitForAsync(first, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal("artifact_store_unavailable", failed.ErrorCode);
        Assert.Contains(root, failed.ErrorMessage);
        Assert.False(worker.HasExited, worker.Output);

        File.Delete(blocker);
        Directory.CreateDirectory(blocker);
        var second = await database.SubmitAsync("supervised", train, new { n_epochs = 1, batch_size = 4 });
        var job = await database.WaitForAsync(second, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);
        Assert.True(job.Status == JobStatus.Succeeded, $"{job.Status} {job.ErrorCode}: {job.ErrorMessage}\n{worker.Output}");
        Assert.True(File.Exists(Path.Combine(root, "models", second, "model.safetensors")));
    }
}
