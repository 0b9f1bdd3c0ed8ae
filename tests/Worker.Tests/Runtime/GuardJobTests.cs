using System.Text.Json;
using TuningService.Domain.Jobs;
using TuningService.Worker.Engine.Checkpoints;
using Xunit.Abstractions;

namespace TuningService.Worker.Tests.Runtime;

/// <summary>The guards against overfitting and forgetting, through the real worker process and PostgreSQL.</summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class GuardJobTests(RuntimeDatabase database, ITestOutputHelper output) : IClassFixture<RuntimeDatabase>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task OverfittingJob_StopsEarly_PublishesTheBestCheckpoint_AndMeasuresForgetting()
    {
        // A lookup table of item → code word: nothing to generalise to new items beyond which words occur, so once the model has
        // learnt that, the validation loss can only rise as it memorises the training items and grows confident on new ones.
        var train = await database.AddFileAsync("prompt_completion", CodeWords(firstItem: 0, shift: 0));
        var valid = await database.AddFileAsync("prompt_completion", CodeWords(firstItem: 100, shift: 3));
        var reference = await database.AddFileAsync("text", GeneralText);
        var jobId = await database.SubmitAsync("supervised", train, new
        {
            n_epochs = 20, batch_size = 4, learning_rate = 1e-2, lr_scheduler = "constant", eval_interval = 2, checkpoint_interval = 1000,
            early_stopping = new { patience = 2 },
        }, valid, referenceFile: reference);

        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w-guards");
        var job = await database.WaitForAsync(jobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);
        var events = await database.EventsAsync(jobId);
        var evaluations = events.Where(e => e.Type == EventTypes.Metrics).Select(e => e.Data!.RootElement)
            .Where(m => m.TryGetProperty(MetricNames.ValidLoss, out _))
            .Select(m => (Step: m.GetProperty("step").GetInt32(), Loss: m.GetProperty(MetricNames.ValidLoss).GetDouble(), Metrics: m)).ToList();
        output.WriteLine(string.Join(", ", evaluations.Select(e => $"{e.Step}: {e.Loss:0.###} (forgetting {e.Metrics.GetProperty(MetricNames.Forgetting).GetDouble():0.###})")));

        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.True(job.Step < job.TotalSteps, $"early stopping should end training before step {job.TotalSteps}; it ran {job.Step}");
        var best = evaluations.MinBy(e => e.Loss);
        Assert.Contains(events, e => e.Message.StartsWith($"Early stopping at step {job.Step}/") && e.Message.Contains($"since step {best.Step}"));
        // Patience 2: the stop comes two evaluations after the best one, and the upturn was named in a warning before.
        Assert.Equal(best.Step + 2 * 2, job.Step);
        var upturn = Assert.Single(events, e => e.Level == "warn" && e.Message.StartsWith("Validation loss turned upward"));
        var firstRise = evaluations.Zip(evaluations.Skip(1)).First(p => p.Second.Loss > p.First.Loss).Second.Step;
        Assert.StartsWith($"Validation loss turned upward at step {firstRise} ", upturn.Message);

        // The published model is the best checkpoint: saved when seen, kept from pruning, and the model's weights are its weights.
        var last = evaluations[^1].Metrics;
        Assert.Equal(best.Step, last.GetProperty(MetricNames.PublishedStep).GetInt32());
        Assert.Equal(best.Loss, last.GetProperty(MetricNames.BestValidLoss).GetDouble(), 5);
        Assert.Contains(events, e => e.Message.StartsWith($"Publishing the best checkpoint by validation loss: step {best.Step} "));
        var checkpoints = await database.CheckpointsAsync(jobId);
        var bestCheckpoint = Assert.Single(checkpoints, c => c.Step == best.Step && c.PrunedAt == null);
        Assert.Equal(best.Loss, bestCheckpoint.Metrics!.RootElement.GetProperty(MetricNames.ValidLoss).GetDouble(), 5);
        // What the guards had seen is in the checkpoint's trainer state, so a run resumed from it would judge as this one did.
        var stopCheckpoint = Assert.Single(checkpoints, c => c.Step == job.Step);
        var runState = JsonDocument.Parse(File.ReadAllText(Path.Combine(database.ArtifactsRoot, stopCheckpoint.ArtifactPath, "trainer_state.json")))
            .RootElement.GetProperty("run_state");
        Assert.Equal((best.Step, job.Step), (runState.GetProperty("best_step").GetInt32(), runState.GetProperty("stopped_at").GetInt32()));
        Assert.Equal(best.Loss, runState.GetProperty("best_valid_loss").GetDouble(), 5);
        await using (var db = database.CreateDbContext())
        {
            var model = db.Models.Single(m => m.Id == job.FineTunedModel);
            var published = Safetensors.Read(Path.Combine(database.ArtifactsRoot, model.ArtifactPath, "model.safetensors"));
            var saved = Safetensors.Read(Path.Combine(database.ArtifactsRoot, bestCheckpoint.ArtifactPath, "model.safetensors"));
            Assert.Equal(saved.Keys.Order(), published.Keys.Order());
            foreach (var (name, tensor) in saved) Assert.True(tensor.allclose(published[name], 0, 0), $"{name} differs from the best checkpoint's");
        }

        // Forgetting: the reference text's loss before training, then its relative rise at every evaluation.
        var before = Assert.Single(events, e => e.Message.StartsWith("Reference text loss before training")).Data!.RootElement
            .GetProperty(MetricNames.ReferenceLoss).GetDouble();
        Assert.All(evaluations, e => Assert.Equal((e.Metrics.GetProperty(MetricNames.ReferenceLoss).GetDouble() - before) / before,
            e.Metrics.GetProperty(MetricNames.Forgetting).GetDouble(), 4));
        // Past the default threshold (10%) a warning names the step and gives advice, once.
        var forgotten = evaluations.First(e => e.Metrics.GetProperty(MetricNames.Forgetting).GetDouble() > 0.1);
        var warning = Assert.Single(events, e => e.Level == "warn" && e.Message.StartsWith("Forgetting:"));
        Assert.Contains($"at step {forgotten.Step} ", warning.Message);
        Assert.Contains("LoRA", warning.Message);
    }

    /// <summary>Eight items, each with its own code word (every word once).</summary>
    private static List<string> CodeWords(int firstItem, int shift)
    {
        string[] words = [" apple", " river", " stone", " cloud", " tiger", " lemon", " piano", " candle"];
        return Enumerable.Range(0, words.Length).Select(i => JsonSerializer.Serialize(new
        {
            prompt = $"Item {firstItem + i}: the code word is", completion = words[(i * 5 + shift) % words.Length],
        })).ToList();
    }

    private static readonly string[] GeneralText =
    [
        .. new[]
        {
            "The weather was mild, so we walked to the market.",
            "She read the letter twice before answering it.",
            "Water boils at a lower temperature on high mountains.",
            "The library opens at nine and closes at six.",
            "He planted tomatoes along the south wall of the garden.",
            "Trains to the city leave every twenty minutes.",
        }.Select(text => JsonSerializer.Serialize(new { text })),
    ];
}
