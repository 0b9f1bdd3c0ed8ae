using R = TuningService.Domain.Jobs.Specs.HyperparameterRanges;

namespace TuningService.Domain.Jobs.Specs;

/// <summary>What resolution needs to know beyond the request: the seed to use when none was given, the base model's architecture, the training file's size.</summary>
public sealed record SpecResolutionContext(long RandomSeed, string? Architecture, int TrainingExamples);

/// <summary>
/// Turns a valid request into the stored spec: method always set (the deprecated top-level hyperparameters become
/// <c>method.supervised</c>), every absent or <c>"auto"</c> field replaced by its documented default
/// (<see cref="HyperparameterRanges"/>), learning_rate and learning_rate_multiplier both filled, seed chosen.
/// </summary>
public static class JobSpecResolver
{
    public static JobSpec Resolve(JobSpec request, SpecResolutionContext context)
    {
        var type = request.Method?.Type ?? MethodTypes.Supervised;
        var method = type switch
        {
            MethodTypes.Supervised => new MethodSpec
            {
                Type = type,
                Supervised = new() { Hyperparameters = Supervised(request.Method?.Supervised?.Hyperparameters ?? request.Hyperparameters ?? new(), context) },
            },
            MethodTypes.Instruction => new MethodSpec
            {
                Type = type,
                Instruction = new() { Hyperparameters = Common(request.Method?.Instruction?.Hyperparameters ?? new(), type, context) },
            },
            MethodTypes.RewardModel => new MethodSpec { Type = type, RewardModel = new() { Hyperparameters = Reward(request.Method?.RewardModel?.Hyperparameters ?? new(), context) } },
            MethodTypes.Dpo => new MethodSpec { Type = type, Dpo = new() { Hyperparameters = Dpo(request.Method?.Dpo?.Hyperparameters ?? new(), context) } },
            MethodTypes.Ppo => new MethodSpec { Type = type, Ppo = new() { Hyperparameters = Ppo(request.Method?.Ppo?.Hyperparameters ?? new(), context) } },
            _ => throw new ArgumentException($"Unknown method type '{type}'.", nameof(request)),
        };
        return request with
        {
            Seed = request.Seed ?? context.RandomSeed,
            Suffix = string.IsNullOrEmpty(request.Suffix) ? null : request.Suffix,
            Metadata = request.Metadata ?? [],
            Method = method,
            Hyperparameters = null,
        };
    }

    private static T Common<T>(T h, string method, SpecResolutionContext context) where T : TrainingHyperparameters
    {
        var baseRate = R.BaseLearningRate(method);
        var multiplier = h.LearningRate is { } lr ? lr / baseRate : h.LearningRateMultiplier ?? R.LearningRateMultiplier.Default;
        return h with
        {
            NEpochs = h.NEpochs ?? (int)R.NEpochs.Default,
            BatchSize = h.BatchSize ?? (int)R.BatchSize.Default,
            LearningRate = h.LearningRate ?? baseRate * multiplier,
            LearningRateMultiplier = multiplier,
            LrScheduler = h.LrScheduler ?? R.DefaultLrScheduler,
            WarmupRatio = h.WarmupRatio ?? R.WarmupRatio.Default,
            WeightDecay = h.WeightDecay ?? R.WeightDecay.Default,
            MaxGradNorm = h.MaxGradNorm ?? R.MaxGradNorm.Default,
            GradientAccumulationSteps = h.GradientAccumulationSteps ?? (int)R.GradientAccumulationSteps.Default,
            MaxSeqLength = h.MaxSeqLength ?? (int)R.MaxSeqLength.Default,
            EvalInterval = h.EvalInterval ?? (int)R.EvalInterval.Default,
            CheckpointInterval = h.CheckpointInterval ?? (int)R.CheckpointInterval.Default,
            Lora = h.Lora is null ? null : new LoraSpec
            {
                R = h.Lora.R ?? (int)R.LoraR.Default,
                Alpha = h.Lora.Alpha ?? (int)R.LoraAlpha.Default,
                Dropout = h.Lora.Dropout ?? R.LoraDropout.Default,
                TargetModules = h.Lora.TargetModules ?? [.. R.DefaultLoraTargetModules(context.Architecture)],
            },
        };
    }

    private static SupervisedHyperparameters Supervised(SupervisedHyperparameters h, SpecResolutionContext c) =>
        Common(h, MethodTypes.Supervised, c) with { TrainOnInputs = h.TrainOnInputs ?? R.DefaultTrainOnInputs };

    private static RewardModelHyperparameters Reward(RewardModelHyperparameters h, SpecResolutionContext c) =>
        Common(h, MethodTypes.RewardModel, c) with
        {
            Margin = h.Margin ?? R.Margin.Default,
            CenterRewardsCoefficient = h.CenterRewardsCoefficient ?? R.CenterRewardsCoefficient.Default,
        };

    private static DpoHyperparameters Dpo(DpoHyperparameters h, SpecResolutionContext c) =>
        Common(h, MethodTypes.Dpo, c) with
        {
            Beta = h.Beta ?? R.Beta.Default,
            LabelSmoothing = h.LabelSmoothing ?? R.LabelSmoothing.Default,
            LossType = h.LossType ?? R.DefaultDpoLossType,
        };

    private static PpoHyperparameters Ppo(PpoHyperparameters h, SpecResolutionContext c)
    {
        var common = Common(h, MethodTypes.Ppo, c);
        return common with
        {
            KlCoef = h.KlCoef ?? R.KlCoef.Default,
            KlEstimator = h.KlEstimator ?? R.DefaultKlEstimator,
            Cliprange = h.Cliprange ?? R.Cliprange.Default,
            CliprangeValue = h.CliprangeValue ?? R.CliprangeValue.Default,
            VfCoef = h.VfCoef ?? R.VfCoef.Default,
            Gamma = h.Gamma ?? R.Gamma.Default,
            Lam = h.Lam ?? R.Lam.Default,
            PpoEpochs = h.PpoEpochs ?? (int)R.PpoEpochs.Default,
            NumMiniBatches = h.NumMiniBatches ?? (int)R.NumMiniBatches.Default,
            ResponseLength = h.ResponseLength ?? (int)R.ResponseLength.Default,
            Temperature = h.Temperature ?? R.Temperature.Default,
            RolloutBatchSize = h.RolloutBatchSize ?? (int)R.RolloutBatchSize.Default,
            TotalEpisodes = h.TotalEpisodes ?? Math.Max(1L, (long)common.NEpochs!.Value * Math.Max(1, c.TrainingExamples)),
            MissingEosPenalty = h.MissingEosPenalty ?? R.MissingEosPenalty.Default,
            WhitenRewards = h.WhitenRewards ?? R.DefaultWhitenRewards,
        };
    }
}
