using R = TuningService.Domain.Jobs.Specs.HyperparameterRanges;

namespace TuningService.Domain.Jobs.Specs;

/// <summary>
/// What resolution needs to know beyond the request: the seed to use when none was given, the base model's architecture,
/// the training file's size, the base model's context length (null when it cannot be known), and whether the base is a
/// random-init preset (or a model fine-tuned from one), whose default learning rate is higher.
/// </summary>
public sealed record SpecResolutionContext(long RandomSeed, string? Architecture, int TrainingExamples, int? ContextLength = null,
    bool RandomInitBase = false);

/// <summary>
/// Turns a valid request into the stored spec: method always set (the deprecated top-level hyperparameters become
/// <c>method.supervised</c>), every absent or <c>"auto"</c> field replaced by its documented default
/// (<see cref="HyperparameterRanges"/>; max_seq_length's default capped at the model's context), learning_rate and
/// learning_rate_multiplier both filled (from the method's own base rate), seed chosen. The worker's engine reads nothing else.
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
            Integrations = null,
            Method = method,
            Hyperparameters = null,
        };
    }

    private static T Common<T>(T h, string method, SpecResolutionContext context) where T : TrainingHyperparameters
    {
        var baseRate = R.BaseLearningRate(method);
        var multiplier = h.LearningRate is { } lr ? lr / baseRate : h.LearningRateMultiplier ?? R.AutoLearningRateMultiplier(method, context.RandomInitBase);
        return h with
        {
            NEpochs = h.NEpochs ?? R.NEpochs.IntValue,
            BatchSize = h.BatchSize ?? R.BatchSize.IntValue,
            LearningRate = h.LearningRate ?? baseRate * multiplier,
            LearningRateMultiplier = multiplier,
            LrScheduler = h.LrScheduler ?? R.DefaultLrScheduler,
            WarmupRatio = h.WarmupRatio ?? R.WarmupRatio.Value,
            WeightDecay = h.WeightDecay ?? R.WeightDecay.Value,
            MaxGradNorm = h.MaxGradNorm ?? R.MaxGradNorm.Value,
            GradientAccumulationSteps = h.GradientAccumulationSteps ?? R.GradientAccumulationSteps.IntValue,
            MaxSeqLength = h.MaxSeqLength ?? Math.Min(R.MaxSeqLength.IntValue, context.ContextLength ?? int.MaxValue),
            EvalInterval = h.EvalInterval ?? R.EvalInterval.IntValue,
            CheckpointInterval = h.CheckpointInterval ?? R.CheckpointInterval.IntValue,
            Packing = h.Packing ?? R.DefaultPacking,
            GradientCheckpointing = h.GradientCheckpointing ?? R.DefaultGradientCheckpointing,
            Precision = h.Precision ?? R.DefaultPrecision,
            Lora = h.Lora is null ? null : new LoraSpec
            {
                R = h.Lora.R ?? R.LoraR.IntValue,
                Alpha = h.Lora.Alpha ?? R.LoraAlpha.IntValue,
                Dropout = h.Lora.Dropout ?? R.LoraDropout.Value,
                TargetModules = h.Lora.TargetModules ?? [.. R.DefaultLoraTargetModules(context.Architecture)],
            },
            EarlyStopping = h.EarlyStopping is null ? null : new EarlyStoppingSpec
            {
                Patience = h.EarlyStopping.Patience ?? R.Patience.IntValue,
                MinDelta = h.EarlyStopping.MinDelta ?? R.MinDelta.Value,
            },
            Publish = h.Publish ?? R.DefaultPublish(h.EarlyStopping is not null),
            ForgettingThreshold = h.ForgettingThreshold ?? R.ForgettingThreshold.Value,
        };
    }

    private static SupervisedHyperparameters Supervised(SupervisedHyperparameters h, SpecResolutionContext c) =>
        Common(h, MethodTypes.Supervised, c) with { TrainOnInputs = h.TrainOnInputs ?? R.DefaultTrainOnInputs };

    private static RewardModelHyperparameters Reward(RewardModelHyperparameters h, SpecResolutionContext c) =>
        Common(h, MethodTypes.RewardModel, c) with
        {
            Margin = h.Margin ?? R.Margin.Value,
            CenterRewardsCoefficient = h.CenterRewardsCoefficient ?? R.CenterRewardsCoefficient.Value,
        };

    private static DpoHyperparameters Dpo(DpoHyperparameters h, SpecResolutionContext c) =>
        Common(h, MethodTypes.Dpo, c) with
        {
            Beta = h.Beta ?? R.Beta.Value,
            LabelSmoothing = h.LabelSmoothing ?? R.LabelSmoothing.Value,
            LossType = h.LossType ?? R.DefaultDpoLossType,
        };

    private static PpoHyperparameters Ppo(PpoHyperparameters h, SpecResolutionContext c)
    {
        var common = Common(h, MethodTypes.Ppo, c);
        return common with
        {
            KlCoef = h.KlCoef ?? R.KlCoef.Value,
            KlEstimator = h.KlEstimator ?? R.DefaultKlEstimator,
            Cliprange = h.Cliprange ?? R.Cliprange.Value,
            CliprangeValue = h.CliprangeValue ?? R.CliprangeValue.Value,
            VfCoef = h.VfCoef ?? R.VfCoef.Value,
            Gamma = h.Gamma ?? R.Gamma.Value,
            Lam = h.Lam ?? R.Lam.Value,
            PpoEpochs = h.PpoEpochs ?? R.PpoEpochs.IntValue,
            NumMiniBatches = h.NumMiniBatches ?? R.NumMiniBatches.IntValue,
            ResponseLength = h.ResponseLength ?? R.ResponseLength.IntValue,
            Temperature = h.Temperature ?? R.Temperature.Value,
            RolloutBatchSize = h.RolloutBatchSize ?? R.RolloutBatchSize.IntValue,
            TotalEpisodes = h.TotalEpisodes ?? Math.Max(1L, (long)common.NEpochs!.Value * Math.Max(1, c.TrainingExamples)),
            MissingEosPenalty = h.MissingEosPenalty ?? R.MissingEosPenalty.Value,
            WhitenRewards = h.WhitenRewards ?? R.DefaultWhitenRewards,
            KlHorizon = h.KlHorizon ?? (long)R.KlHorizon.Value,
        };
    }
}
