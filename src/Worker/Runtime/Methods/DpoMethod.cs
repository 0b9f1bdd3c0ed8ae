using TorchSharp;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Rlhf;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Runtime.Methods;

/// <summary>
/// Direct preference optimisation on preference data: the policy starts from the job's model and the frozen
/// reference is that same starting point (its log-probabilities are computed once, before the first step).
/// </summary>
public sealed class DpoMethod : ITrainingMethod
{
    public IReadOnlyCollection<string> MethodTypes { get; } = ["dpo"];

    public MethodResult Run(TrainingRun run)
    {
        var job = run.Job;
        var spec = JobSpecs.HyperparametersOf<Domain.Jobs.Specs.DpoHyperparameters>(job);
        var hp = HyperparameterMapping.FromSpec(spec, job.Seed, run.MetricsInterval, run.Device.type);
        var settings = HyperparameterMapping.Dpo(spec);

        using var loaded = run.Models.Load(job.ProjectId, job.Model, job.Seed);
        manual_seed(job.Seed);
        if (hp.Lora is { } lora)
        {
            MixedPrecision.Prepare(loaded.Model, hp.Precision, fullFineTune: false); // bf16: the base, before the float32 adapters
            LoraAdapter.Attach(loaded.Model, lora);
        }
        loaded.Model.to(run.Device);
        run.Reporter.Info($"Model {job.Model} loaded ({loaded.Model.Config.ParameterCount():N0} parameters) on {run.Device.type}; it is also the frozen reference; " +
            $"{HyperparameterMapping.TrainingIn(spec, hp)}.", new { precision = hp.Precision.SpecName() });

        var template = ChatTemplate.Of(loaded.Tokenizer);
        int maxLength = hp.WithinContext(loaded.Model.Config.MaxPositionEmbeddings, job).MaxSeqLength;
        var (train, dropped) = RlhfData.EncodePairs(run, RlhfData.ReadPairs(run, job.TrainingFileId, "training_file"), loaded.Tokenizer, maxLength, template);
        var validation = job.ValidationFileId is null ? []
            : RlhfData.EncodePairs(run, RlhfData.ReadPairs(run, job.ValidationFileId, "validation_file"), loaded.Tokenizer, maxLength, template).Kept;

        RlhfData.ReportTemplate(run, template);
        using var trainer = new DpoTrainer(loaded.Model, loaded.Model, train, validation, hp, settings, loaded.Tokenizer.PadId);
        run.Reporter.Info(
            $"Data tokenized: {train.Count} training pairs ({dropped} dropped: longer than {maxLength} tokens), " +
            $"{validation.Count} validation pairs; reference log-probabilities computed; {trainer.TotalSteps} steps over {hp.NEpochs} epochs.",
            new { training_pairs = train.Count, dropped_pairs = dropped, validation_pairs = validation.Count, total_steps = trainer.TotalSteps });

        var outcome = StepwiseTrainingLoop.Run(run, trainer, hp, RunGuards.For(run, spec, loaded.Model, loaded.Tokenizer, hp));
        if (outcome.Stopped != StopReason.None) return new MethodResult(outcome.Stopped, 0);

        var modelPath = ArtifactStore.ModelPath(job.Id);
        PolicyOutput.Save(run, loaded, hp, modelPath);
        return new MethodResult(StopReason.None, outcome.TrainedTokens, modelPath, Architecture: loaded.Model.Config.ModelType);
    }
}

/// <summary>A trained policy as the job's model: an HF directory (LoRA merged) with its tokenizer, plus the PEFT adapter for LoRA runs.</summary>
internal static class PolicyOutput
{
    public static void Save(TrainingRun run, Engine.LoadedModel policy, Engine.Training.TrainingHyperparameters hp, string modelPath)
        => AtomicDirectory.Write(run.Artifacts.FullPath(modelPath), temp =>
        {
            HfCheckpoint.Save(policy.Model, temp, TorchSharp.torch.ScalarType.Float32); // the precision its metrics were measured in
            policy.Tokenizer.SaveTo(temp);
            if (hp.Lora is { } lora)
            {
                LoraAdapter.Save(policy.Model, lora, Path.Combine(temp, Domain.Models.ModelRecord.AdapterDirectory), run.Job.Model);
                policy.Tokenizer.SaveTo(Path.Combine(temp, Domain.Models.ModelRecord.AdapterDirectory));
            }
        });
}
