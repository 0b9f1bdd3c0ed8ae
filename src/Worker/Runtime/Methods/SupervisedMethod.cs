using TorchSharp;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Training;

namespace TuningService.Worker.Runtime.Methods;

/// <summary>
/// Supervised fine-tuning (prompt_completion, text) and instruction tuning (chat through the checkpoint's template):
/// the engine's <see cref="Trainer"/> driven by <see cref="StepwiseTrainingLoop"/>, like every method.
/// </summary>
public sealed class SupervisedMethod : ITrainingMethod
{
    public IReadOnlyCollection<string> MethodTypes { get; } = ["supervised", "instruction"];

    public MethodResult Run(TrainingRun run)
    {
        var job = run.Job;
        using var loaded = run.Models.Load(job.ProjectId, job.Model, job.Seed);
        var spec = JobSpecs.HyperparametersOf<Domain.Jobs.Specs.TrainingHyperparameters>(job);
        var hyperparameters = HyperparameterMapping.FromSpec(spec, job.Seed, run.MetricsInterval, run.Device.type)
            .WithinContext(loaded.Model.Config.MaxPositionEmbeddings, job);
        // A LoRA run's frozen base is cast before it moves, so the device never holds it in float32.
        if (hyperparameters.Lora is not null) MixedPrecision.Prepare(loaded.Model, hyperparameters.Precision, fullFineTune: false);
        loaded.Model.to(run.Device);
        run.Reporter.Info($"Model {job.Model} loaded ({loaded.Model.Config.ParameterCount():N0} parameters, {loaded.Model.Config.Architecture}) on {run.Device.type}; " +
            $"{HyperparameterMapping.TrainingIn(spec, hyperparameters)}.", new { precision = hyperparameters.Precision.SpecName() });

        var template = ChatTemplate.Of(loaded.Tokenizer);
        var training = ReadExamples(run, job.TrainingFileId, "training_file", template);
        var validation = job.ValidationFileId is null ? null : ReadExamples(run, job.ValidationFileId, "validation_file", template);

        RlhfData.ReportTemplate(run, template);
        using var trainer = CreateTrainer(run, loaded, training, validation, hyperparameters);
        run.Reporter.Info(
            $"Data tokenized: {trainer.TrainingExamples} training examples ({trainer.DroppedExamples} dropped: no label token within max_seq_length {trainer.Hyperparameters.MaxSeqLength}), " +
            $"{validation?.Count ?? 0} validation examples; " +
            (trainer.Hyperparameters.Packing ? $"packed into {trainer.TrainingRows} rows of up to {trainer.Hyperparameters.MaxSeqLength} tokens; " : "") +
            $"{trainer.TotalSteps} steps over {trainer.Hyperparameters.NEpochs} epochs.",
            new
            {
                training_examples = trainer.TrainingExamples, dropped_examples = trainer.DroppedExamples, validation_examples = validation?.Count ?? 0,
                training_rows = trainer.TrainingRows, total_steps = trainer.TotalSteps,
            });

        var guards = RunGuards.For(run, spec, loaded.Model, loaded.Tokenizer, hyperparameters);
        var outcome = StepwiseTrainingLoop.Run(run, trainer, hyperparameters, guards);
        if (outcome.Stopped != StopReason.None) return new MethodResult(outcome.Stopped, 0);

        var modelPath = ArtifactStore.ModelPath(job.Id);
        trainer.SaveModel(run.Artifacts.FullPath(modelPath));
        if (trainer.Hyperparameters.Precision == TrainingPrecision.BFloat16)
            run.Reporter.Info("The model is delivered in float32: the bf16 weights its metrics were evaluated with, widened exactly" +
                (trainer.Hyperparameters.Lora is null ? "." : " (the bf16 base with the float32 adapter merged in float32; the adapter is float32)."));
        else if (loaded.Model.Config.TorchDtype != "float32")
            run.Reporter.Info($"The model is delivered in float32, the precision it was trained and evaluated in (the base's weights are {loaded.Model.Config.TorchDtype}).");
        if (trainer.Hyperparameters.Lora is not null)
            trainer.SaveAdapter(Path.Combine(run.Artifacts.FullPath(modelPath), Domain.Models.ModelRecord.AdapterDirectory), job.Model);
        return new MethodResult(StopReason.None, outcome.TrainedTokens, modelPath, Architecture: loaded.Model.Config.ModelType);
    }

    private static Trainer CreateTrainer(TrainingRun run, Engine.LoadedModel loaded, List<TrainingExample> training,
        List<TrainingExample>? validation, TrainingHyperparameters hyperparameters)
    {
        try
        {
            return new Trainer(loaded.Model, loaded.Tokenizer, training, validation, hyperparameters);
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("No training example", StringComparison.Ordinal))
        {
            throw JobFailures.Fail(JobFailures.ExampleTooLong,
                $"{e.Message} Every example is longer than max_seq_length ({hyperparameters.MaxSeqLength} tokens) before its first label token: " +
                "raise max_seq_length or shorten the prompts.", $"method.{run.Job.MethodType}.hyperparameters.max_seq_length", e);
        }
    }

    /// <summary>
    /// Domain examples (the upload's parser) as the engine's segments: prompts are context, completions and assistant turns
    /// are trained. Conversations are rendered in parallel (a chat template under Jint takes milliseconds), in file order.
    /// </summary>
    private static List<TrainingExample> ReadExamples(TrainingRun run, string fileId, string param, ChatTemplate template)
    {
        var code = param == "validation_file" ? JobFailures.InvalidValidationFile : JobFailures.InvalidTrainingFile;
        return RlhfData.Rendering(run, param, () => run.Datasets.ReadExamples(run.Job.ProjectId, fileId, param).AsParallel().AsOrdered()
            .Select(example => DomainExamples.ToTraining(example, template)
            ?? throw JobFailures.Fail(code, $"{fileId} holds {example.GetType().Name.Replace("Example", "")} examples, which a {run.Job.MethodType} job cannot train on.", param))
            .ToList());
    }
}
