using TorchSharp;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Training;

namespace TuningService.Worker.Runtime.Methods;

/// <summary>
/// Supervised fine-tuning (prompt_completion, text) and instruction tuning (chat through ChatML): the engine's
/// <see cref="Trainer"/>, checkpointed into the artifact store and stoppable at every optimizer step.
/// </summary>
public sealed class SupervisedMethod : ITrainingMethod
{
    public IReadOnlyCollection<string> MethodTypes { get; } = ["supervised", "instruction"];

    public MethodResult Run(TrainingRun run)
    {
        var job = run.Job;
        using var loaded = run.Models.Load(job.ProjectId, job.Model, job.Seed);
        loaded.Model.to(run.Device);
        run.Reporter.Info($"Model {job.Model} loaded ({loaded.Model.Config.ParameterCount():N0} parameters, {loaded.Model.Config.Architecture}) on {run.Device.type}.");
        var hyperparameters = HyperparameterMapping.FromSpec(JobSpecs.HyperparametersOf<Domain.Jobs.Specs.TrainingHyperparameters>(job), job.Seed, run.MetricsInterval)
            .WithinContext(loaded.Model.Config.MaxPositionEmbeddings, job);

        var template = new ChatTemplate(loaded.Tokenizer);
        var training = ReadExamples(run, job.TrainingFileId, "training_file", template);
        var validation = job.ValidationFileId is null ? null : ReadExamples(run, job.ValidationFileId, "validation_file", template);

        using var trainer = CreateTrainer(run, loaded, training, validation, hyperparameters);
        run.Reporter.Info(
            $"Data tokenized: {trainer.TrainingExamples} training examples ({trainer.DroppedExamples} dropped: no label token within max_seq_length {trainer.Hyperparameters.MaxSeqLength}), " +
            $"{validation?.Count ?? 0} validation examples; {trainer.TotalSteps} steps over {trainer.Hyperparameters.NEpochs} epochs.",
            new { training_examples = trainer.TrainingExamples, dropped_examples = trainer.DroppedExamples, validation_examples = validation?.Count ?? 0, total_steps = trainer.TotalSteps });
        if (run.ResumeDirectory is not null) run.Reporter.Info($"Resumed from the checkpoint at step {trainer.Step}.");

        var lastMetrics = new Dictionary<string, double?>();
        var stop = StopReason.None;
        var epochAtLastReport = trainer.Epoch;
        var callbacks = new TrainerCallbacks
        {
            Progress = new Reporting(m =>
            {
                lastMetrics = MetricsOf(m);
                run.Reporter.Metrics(m.Step, m.TotalSteps, (double)m.Step / trainer.StepsPerEpoch, lastMetrics);
                if (m.Epoch > epochAtLastReport && m.Step < m.TotalSteps) run.Reporter.Info($"Epoch {m.Epoch}/{trainer.Hyperparameters.NEpochs} done.");
                epochAtLastReport = m.Epoch;
            }),
            Checkpoint = (t, _) => SaveCheckpoint(run, t, lastMetrics),
            ShouldStop = () => (stop = run.PollStop()) != StopReason.None,
        };

        if (trainer.Run(callbacks) == TrainingOutcome.Stopped)
        {
            if (stop is StopReason.Pause or StopReason.Shutdown && trainer.Step > 0) SaveCheckpoint(run, trainer, lastMetrics);
            return new MethodResult(stop, 0);
        }

        var modelPath = ArtifactStore.ModelPath(job.Id);
        trainer.SaveModel(run.Artifacts.FullPath(modelPath));
        if (trainer.Hyperparameters.Lora is not null)
            trainer.SaveAdapter(Path.Combine(run.Artifacts.FullPath(modelPath), Domain.Models.ModelRecord.AdapterDirectory), job.Model);
        var trainedTokens = (long)(lastMetrics.GetValueOrDefault("trained_tokens") ?? 0);
        return new MethodResult(StopReason.None, trainedTokens, modelPath, Architecture: loaded.Model.Config.ModelType);
    }

    private static Trainer CreateTrainer(TrainingRun run, Engine.LoadedModel loaded, List<TrainingExample> training,
        List<TrainingExample>? validation, TrainingHyperparameters hyperparameters)
    {
        try
        {
            return run.ResumeDirectory is { } resume
                ? Trainer.Resume(resume, loaded.Model, loaded.Tokenizer, training, validation)
                : new Trainer(loaded.Model, loaded.Tokenizer, training, validation, hyperparameters);
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("No training example", StringComparison.Ordinal))
        {
            throw JobFailures.Fail(JobFailures.ExampleTooLong,
                $"{e.Message} Every example is longer than max_seq_length ({hyperparameters.MaxSeqLength} tokens) before its first label token: " +
                "raise max_seq_length or shorten the prompts.", $"method.{run.Job.MethodType}.hyperparameters.max_seq_length", e);
        }
    }

    /// <summary>Domain examples (the upload's parser) as the engine's segments: prompts are context, completions and assistant turns are trained.</summary>
    private static List<TrainingExample> ReadExamples(TrainingRun run, string fileId, string param, ChatTemplate template)
    {
        var code = param == "validation_file" ? JobFailures.InvalidValidationFile : JobFailures.InvalidTrainingFile;
        return run.Datasets.ReadExamples(run.Job.ProjectId, fileId, param).Select(example => DomainExamples.ToTraining(example, template)
            ?? throw JobFailures.Fail(code, $"{fileId} holds {example.GetType().Name.Replace("Example", "")} examples, which a {run.Job.MethodType} job cannot train on.", param))
            .ToList();
    }

    private static void SaveCheckpoint(TrainingRun run, Trainer trainer, IReadOnlyDictionary<string, double?> metrics)
    {
        var path = ArtifactStore.CheckpointPath(run.Job.Id, trainer.Step);
        trainer.SaveState(run.Artifacts.FullPath(path));
        run.Checkpoints.Register(run.Job, trainer.Step, path, run.ModelName, metrics);
    }

    private static Dictionary<string, double?> MetricsOf(TrainingMetrics m) => new()
    {
        ["train_loss"] = m.TrainLoss,
        ["valid_loss"] = m.ValidLoss,
        ["mean_token_accuracy"] = m.MeanTokenAccuracy,
        ["valid_mean_token_accuracy"] = m.MeanTokenAccuracy,
        ["exact_match_accuracy"] = m.ExactMatchAccuracy,
        ["learning_rate"] = m.LearningRate,
        ["grad_norm"] = m.GradNorm,
        ["tokens_per_second"] = m.TokensPerSecond,
        ["trained_tokens"] = m.TrainedTokens,
    };

    /// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class Reporting(Action<TrainingMetrics> report) : IProgress<TrainingMetrics>
    {
        public void Report(TrainingMetrics value) => report(value);
    }
}
