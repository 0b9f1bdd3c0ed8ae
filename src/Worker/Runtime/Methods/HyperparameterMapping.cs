using TuningService.Worker.Engine.Training;
using Spec = TuningService.Domain.Jobs.Specs;

namespace TuningService.Worker.Runtime.Methods;

/// <summary>Maps the stored job spec onto the engine's hyperparameter record (shared by every method).</summary>
public static class HyperparameterMapping
{
    /// <summary>OpenAI-style multiplier base: learning_rate = multiplier × this when only the multiplier is given.</summary>
    public const double BaseLearningRate = 1e-4;

    /// <summary>The engine's record from the stored spec's; a field the spec leaves out keeps the engine's default.</summary>
    public static TrainingHyperparameters FromSpec(Spec.TrainingHyperparameters spec, long seed, int metricsInterval)
    {
        var defaults = new TrainingHyperparameters();
        return new TrainingHyperparameters
        {
            NEpochs = spec.NEpochs ?? defaults.NEpochs,
            BatchSize = spec.BatchSize ?? defaults.BatchSize,
            LearningRate = spec.LearningRate ?? spec.LearningRateMultiplier * BaseLearningRate ?? defaults.LearningRate,
            LrScheduler = spec.LrScheduler ?? defaults.LrScheduler,
            WarmupRatio = spec.WarmupRatio ?? defaults.WarmupRatio,
            WeightDecay = spec.WeightDecay ?? defaults.WeightDecay,
            MaxGradNorm = spec.MaxGradNorm ?? defaults.MaxGradNorm,
            GradientAccumulationSteps = spec.GradientAccumulationSteps ?? defaults.GradientAccumulationSteps,
            MaxSeqLength = spec.MaxSeqLength ?? defaults.MaxSeqLength,
            EvalInterval = spec.EvalInterval ?? defaults.EvalInterval,
            CheckpointInterval = spec.CheckpointInterval ?? defaults.CheckpointInterval,
            TrainOnInputs = (spec as Spec.SupervisedHyperparameters)?.TrainOnInputs ?? false,
            LogInterval = Math.Max(1, metricsInterval),
            Seed = seed,
            Lora = Lora(spec.Lora),
        };
    }

    /// <summary>A max_seq_length beyond the model's context would index past its position table: use the context instead, and say so.</summary>
    public static TrainingHyperparameters FitContext(this TrainingHyperparameters hyperparameters, int contextLength, JobReporter reporter)
    {
        if (hyperparameters.MaxSeqLength <= contextLength) return hyperparameters;
        reporter.Warn($"max_seq_length {hyperparameters.MaxSeqLength} exceeds the model's context of {contextLength} tokens; using {contextLength}.");
        return hyperparameters with { MaxSeqLength = contextLength };
    }

    private static LoraSettings? Lora(Spec.LoraSpec? lora)
    {
        if (lora is null) return null;
        var defaults = new LoraSettings();
        return new LoraSettings
        {
            Rank = lora.R ?? defaults.Rank,
            Alpha = lora.Alpha ?? defaults.Alpha,
            Dropout = lora.Dropout ?? defaults.Dropout,
            TargetModules = lora.TargetModules ?? [],
        };
    }
}
