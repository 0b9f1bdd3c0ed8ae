using TuningService.Worker.Engine.Training;

namespace TuningService.Worker.Runtime.Methods;

/// <summary>Maps the stored job spec onto the engine's hyperparameter record (shared by every method).</summary>
public static class HyperparameterMapping
{
    /// <summary>OpenAI-style multiplier base: learning_rate = multiplier × this when only the multiplier is given.</summary>
    public const double BaseLearningRate = 1e-4;

    public static TrainingHyperparameters FromSpec(SpecReader spec, long seed, int metricsInterval)
    {
        var defaults = new TrainingHyperparameters();
        return new TrainingHyperparameters
        {
            NEpochs = spec.Integer("n_epochs") ?? defaults.NEpochs,
            BatchSize = spec.Integer("batch_size") ?? defaults.BatchSize,
            LearningRate = spec.Number("learning_rate") ?? spec.Number("learning_rate_multiplier") * BaseLearningRate ?? defaults.LearningRate,
            LrScheduler = spec.Text("lr_scheduler") ?? defaults.LrScheduler,
            WarmupRatio = spec.Number("warmup_ratio") ?? defaults.WarmupRatio,
            WeightDecay = spec.Number("weight_decay") ?? defaults.WeightDecay,
            MaxGradNorm = spec.Number("max_grad_norm") ?? defaults.MaxGradNorm,
            GradientAccumulationSteps = spec.Integer("gradient_accumulation_steps") ?? defaults.GradientAccumulationSteps,
            MaxSeqLength = spec.Integer("max_seq_length") ?? defaults.MaxSeqLength,
            EvalInterval = spec.Integer("eval_interval") ?? defaults.EvalInterval,
            CheckpointInterval = spec.Integer("checkpoint_interval") ?? defaults.CheckpointInterval,
            TrainOnInputs = spec.Flag("train_on_inputs") ?? false,
            LogInterval = Math.Max(1, metricsInterval),
            Seed = seed,
            Lora = Lora(spec),
        };
    }

    /// <summary>A max_seq_length beyond the model's context would index past its position table: use the context instead, and say so.</summary>
    public static TrainingHyperparameters FitContext(this TrainingHyperparameters hyperparameters, int contextLength, JobReporter reporter)
    {
        if (hyperparameters.MaxSeqLength <= contextLength) return hyperparameters;
        reporter.Warn($"max_seq_length {hyperparameters.MaxSeqLength} exceeds the model's context of {contextLength} tokens; using {contextLength}.");
        return hyperparameters with { MaxSeqLength = contextLength };
    }

    private static LoraSettings? Lora(SpecReader spec)
    {
        if (spec.Object("lora") is not { } lora) return null;
        var defaults = new LoraSettings();
        double? Number(string name) => lora.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.Number ? v.GetDouble() : null;
        var targets = lora.TryGetProperty("target_modules", out var t) && t.ValueKind == System.Text.Json.JsonValueKind.Array
            ? t.EnumerateArray().Select(e => e.GetString() ?? "").Where(s => s.Length > 0).ToList()
            : [];
        return new LoraSettings
        {
            Rank = (int)(Number("r") ?? defaults.Rank),
            Alpha = Number("alpha") ?? defaults.Alpha,
            Dropout = Number("dropout") ?? defaults.Dropout,
            TargetModules = targets,
        };
    }
}
