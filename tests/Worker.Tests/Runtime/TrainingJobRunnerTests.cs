using System.Globalization;
using TuningService.Domain.Jobs;
using TuningService.Domain.Models;
using TuningService.Worker.Engine.Checkpoints;

namespace TuningService.Worker.Tests.Runtime;

/// <summary>The worker runtime end to end against real PostgreSQL and Hangfire, with the real worker executable.</summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class TrainingJobRunnerTests(RuntimeDatabase database) : IClassFixture<RuntimeDatabase>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task SupervisedJob_Succeeds_WithFallingLoss_CheckpointsAndARegisteredModel()
    {
        var train = await database.AddFileAsync("prompt_completion", SampleData.Sentiment(48));
        var valid = await database.AddFileAsync("prompt_completion", SampleData.Sentiment(16, seed: 9));
        var jobId = await database.SubmitAsync("supervised", train,
            new { n_epochs = 2, batch_size = 8, learning_rate = 1e-2, checkpoint_interval = 4, eval_interval = 6 }, valid);

        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w1");
        var job = await database.WaitForAsync(jobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);

        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.Equal($"ft:tiny-gpt2:test:{jobId}", job.FineTunedModel);
        Assert.True(job.TrainedTokens > 0);
        Assert.Equal(job.TotalSteps, job.Step);
        Assert.Single(job.ResultFiles);

        var events = await database.EventsAsync(jobId);
        var losses = events.Where(e => e.Type == EventTypes.Metrics).Select(e => e.Data!.RootElement.GetProperty("train_loss").GetDouble()).ToList();
        Assert.Equal(job.TotalSteps, losses.Count);
        Assert.True(losses[^1] < losses[0] * 0.75, $"loss should fall: {string.Join(", ", losses)}");
        var metricEvents = events.Where(e => e.Type == EventTypes.Metrics).Select(e => e.Data!.RootElement).ToList();
        Assert.Equal([6, 12], metricEvents.Where(m => m.TryGetProperty(MetricNames.ValidLoss, out _)).Select(m => m.GetProperty("step").GetInt32()));
        Assert.All(metricEvents, m => Assert.InRange(m.GetProperty(MetricNames.TrainMeanTokenAccuracy).GetDouble(), 0, 1));
        Assert.DoesNotContain(metricEvents, m => m.TryGetProperty("mean_token_accuracy", out _));
        Assert.DoesNotContain(metricEvents, m => m.TryGetProperty(MetricNames.PeakDeviceMemoryMb, out _)); // CUDA only
        Assert.Contains(events, e => e.Message.Contains("training in fp32 (precision auto: fp32 on the CPU)"));
        Assert.Contains(events, e => e.Message.StartsWith("Data tokenized"));
        Assert.Contains(events, e => e.Message.Contains("w1") && e.Message.Contains("CPU"));

        var checkpoints = await database.CheckpointsAsync(jobId);
        Assert.Equal(new[] { 4, 8, 12 }, checkpoints.Select(c => c.Step));
        Assert.All(checkpoints, c => Assert.Equal($"{job.FineTunedModel}:ckpt-step-{c.Step}", c.FineTunedModelCheckpoint));
        Assert.All(checkpoints, c => Assert.True(c.Metrics!.RootElement.TryGetProperty(MetricNames.TrainMeanTokenAccuracy, out _), $"checkpoint {c.Step} metrics"));
        // A succeeded job cannot resume: its checkpoints keep their weights and lose the optimizer state (just after success).
        var directories = checkpoints.Select(c => Path.Combine(database.ArtifactsRoot, c.ArtifactPath)).ToList();
        for (var waited = 0; directories.Any(d => File.Exists(Path.Combine(d, "optimizer.safetensors"))) && waited < 300; waited++) await Task.Delay(100);
        Assert.All(directories, d => Assert.False(File.Exists(Path.Combine(d, "optimizer.safetensors")), d));
        Assert.All(directories, d => Assert.True(File.Exists(Path.Combine(d, "model.safetensors")), d));

        await using var db = database.CreateDbContext();
        var model = db.Models.Single(m => m.Id == job.FineTunedModel);
        Assert.Equal(ModelKinds.FineTuned, model.Kind);
        var weights = Safetensors.Read(Path.Combine(database.ArtifactsRoot, model.ArtifactPath, "model.safetensors"));
        Assert.Contains(weights.Keys, k => k.EndsWith("wte.weight"));
        var csv = System.Text.Encoding.UTF8.GetString(db.FileChunks.Single(c => c.FileId == job.ResultFiles[0]).Data).TrimEnd('\n').Split('\n');
        Assert.Equal("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy", csv[0]);
        var rows = csv.Skip(1).Select(line => line.Split(',')).ToList();
        Assert.Equal(Enumerable.Range(1, 12).Select(s => s.ToString()), rows.Select(r => r[0]));
        Assert.All(rows, r => Assert.Equal(5, r.Length));
        Assert.All(rows, r => Assert.True(double.Parse(r[1], CultureInfo.InvariantCulture) > 0, $"train_loss in {string.Join(',', r)}"));
        Assert.All(rows, r => Assert.InRange(double.Parse(r[2], CultureInfo.InvariantCulture), 0, 1));
        Assert.Equal(["6", "12"], rows.Where(r => r[3].Length > 0 && r[4].Length > 0).Select(r => r[0]));
        Assert.Equal(losses[^1], double.Parse(rows[^1][1], CultureInfo.InvariantCulture), 5);
    }

    [Fact]
    public async Task InstructionJob_Succeeds_OnChatData()
    {
        var train = await database.AddFileAsync("chat", SampleData.SupportChat(24));
        var jobId = await database.SubmitAsync("instruction", train, new { n_epochs = 2, batch_size = 8, learning_rate = 3e-3 }, model: "tiny-llama");

        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w-chat");
        var job = await database.WaitForAsync(jobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);

        Assert.Equal(JobStatus.Succeeded, job.Status);
        var events = await database.EventsAsync(jobId);
        var losses = events.Where(e => e.Type == EventTypes.Metrics).Select(e => e.Data!.RootElement.GetProperty("train_loss").GetDouble()).ToList();
        Assert.True(losses[^1] < losses[0], $"loss should fall: {string.Join(", ", losses)}");
        Assert.Contains(events, e => e.Message == "Chat template: ChatML (the checkpoint has none; turns end with <|endoftext|>).");   // the tiny-llama preset: GPT-2 vocabulary
    }

    [Fact]
    public async Task Bf16LoraJob_OnTheCpu_TrainsInBf16_RecordsIt_AndDeliversFloat32Weights()
    {
        var train = await database.AddFileAsync("prompt_completion", SampleData.Sentiment(16));
        var jobId = await database.SubmitAsync("supervised", train,
            new { n_epochs = 1, batch_size = 8, learning_rate = 1e-2, precision = "bf16", lora = new { r = 4 } });

        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w-bf16");
        var job = await database.WaitForAsync(jobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);

        Assert.Equal(JobStatus.Succeeded, job.Status);
        var events = await database.EventsAsync(jobId);
        Assert.Contains(events, e => e.Message.Contains("training in bf16."));
        Assert.Contains(events, e => e.Message.StartsWith("The model is delivered in float32: the bf16 weights"));
        var checkpoint = Assert.Single(await database.CheckpointsAsync(jobId));
        var state = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(database.ArtifactsRoot, checkpoint.ArtifactPath, "trainer_state.json")))!;
        Assert.Equal("bf16", state["configuration"]!["precision"]!.GetValue<string>());
        await using var db = database.CreateDbContext();
        var model = db.Models.Single(m => m.Id == job.FineTunedModel);
        var weights = Safetensors.Read(Path.Combine(database.ArtifactsRoot, model.ArtifactPath, "model.safetensors"));
        Assert.All(weights.Values, w => Assert.Equal(TorchSharp.torch.ScalarType.Float32, w.dtype));
        var adapter = Safetensors.Read(Path.Combine(database.ArtifactsRoot, model.ArtifactPath, ModelRecord.AdapterDirectory, "adapter_model.safetensors"));
        Assert.All(adapter.Values, w => Assert.Equal(TorchSharp.torch.ScalarType.Float32, w.dtype));
    }

    [Fact]
    public async Task ImpossibleConfig_FailsWithExampleTooLong_InsteadOfHanging()
    {
        var train = await database.AddFileAsync("prompt_completion", SampleData.Sentiment(12));
        var jobId = await database.SubmitAsync("supervised", train, new { n_epochs = 1, max_seq_length = 8 }); // the smallest allowed: every prompt is longer

        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w-fail");
        var job = await database.WaitForAsync(jobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Equal("example_too_long", job.ErrorCode);
        Assert.Equal("method.supervised.hyperparameters.max_seq_length", job.ErrorParam);
        Assert.False(worker.HasExited, "the worker survives a failed job");
    }

    [Fact]
    public async Task UnknownBaseModel_FailsWithModelLoadFailed()
    {
        var train = await database.AddFileAsync("prompt_completion", SampleData.Sentiment(12));
        var jobId = await database.SubmitAsync("supervised", train, new { n_epochs = 1 }, model: "no-such-model");

        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w-model");
        var job = await database.WaitForAsync(jobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);

        Assert.Equal("model_load_failed", job.ErrorCode);
        Assert.Equal("model", job.ErrorParam);
    }
}

[CollectionDefinition(Name)]
public sealed class WorkerProcessCollection
{
    public const string Name = "worker processes";
}
