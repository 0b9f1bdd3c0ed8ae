using TorchSharp;
using TuningService.Domain.Models;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Rlhf;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Runtime.Methods;

/// <summary>
/// RLHF stage 1 on preference data: the base model plus a scalar head, trained so chosen responses outscore
/// rejected ones. The result is an HF *ForSequenceClassification directory registered as a reward_model.
/// </summary>
public sealed class RewardModelMethod : ITrainingMethod
{
    public IReadOnlyCollection<string> MethodTypes { get; } = ["reward_model"];

    public MethodResult Run(TrainingRun run)
    {
        var job = run.Job;
        var spec = JobSpecs.HyperparametersOf<Domain.Jobs.Specs.RewardModelHyperparameters>(job);
        var hp = HyperparameterMapping.FromSpec(spec, job.Seed, run.MetricsInterval, run.Device.type);
        var settings = HyperparameterMapping.RewardModel(spec);

        using var loaded = run.Models.Load(job.ProjectId, job.Model, job.Seed);
        manual_seed(job.Seed);
        var model = new RewardModel(loaded.Model, loaded.Tokenizer.PadId);
        if (loaded.Directory is { } directory && model.LoadHead(directory)) run.Reporter.Info($"Continuing from the reward head of {job.Model}.");
        if (hp.Lora is { } lora)
        {
            MixedPrecision.Prepare(model, hp.Precision, fullFineTune: false); // bf16: the base and head, before the float32 adapters
            LoraAdapter.Attach(loaded.Model, lora);   // the head stays fully trainable
        }
        model.to(run.Device);
        run.Reporter.Info($"Model {job.Model} loaded with a scalar reward head ({loaded.Model.Config.ParameterCount():N0} backbone parameters) on {run.Device.type}; " +
            $"{HyperparameterMapping.TrainingIn(spec, hp)}.", new { precision = hp.Precision.SpecName() });

        var template = ChatTemplate.Of(loaded.Tokenizer);
        int maxLength = hp.WithinContext(loaded.Model.Config.MaxPositionEmbeddings, job).MaxSeqLength;
        var (train, dropped) = RlhfData.EncodePairs(run, RlhfData.ReadPairs(run, job.TrainingFileId, "training_file"), loaded.Tokenizer, maxLength, template, settings.Margin);
        var validation = job.ValidationFileId is null ? []
            : RlhfData.EncodePairs(run, RlhfData.ReadPairs(run, job.ValidationFileId, "validation_file"), loaded.Tokenizer, maxLength, template, settings.Margin).Kept;

        RlhfData.ReportTemplate(run, template);
        using var trainer = new RewardModelTrainer(model, train, validation, hp, loaded.Tokenizer.PadId, settings.CenterRewardsCoefficient);
        run.Reporter.Info(
            $"Data tokenized: {train.Count} training pairs ({dropped} dropped: longer than {maxLength} tokens), " +
            $"{validation.Count} validation pairs; {trainer.TotalSteps} steps over {hp.NEpochs} epochs.",
            new { training_pairs = train.Count, dropped_pairs = dropped, validation_pairs = validation.Count, total_steps = trainer.TotalSteps });

        var outcome = StepwiseTrainingLoop.Run(run, trainer, hp, RunGuards.For(run, spec, null, null, hp));
        if (outcome.Stopped != StopReason.None) return new MethodResult(outcome.Stopped, 0);

        var modelPath = ArtifactStore.ModelPath(job.Id);
        AtomicDirectory.Write(run.Artifacts.FullPath(modelPath), temp => model.SaveHf(temp, loaded.Tokenizer));
        return new MethodResult(StopReason.None, outcome.TrainedTokens, modelPath, ModelKinds.RewardModel, loaded.Model.Config.ModelType);
    }
}
