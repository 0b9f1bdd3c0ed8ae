using TuningService.Worker.Engine.Rlhf;
using TuningService.Worker.Engine.Training;
using TorchSharp;
using Spec = TuningService.Domain.Jobs.Specs;

namespace TuningService.Worker.Runtime.Methods;

/// <summary>
/// The one mapping from the resolved job spec (read by <see cref="JobSpecs"/>) to the engine's records. A resolved spec
/// has every field, so there is no fallback: a missing one fails the job (invalid_hyperparameters, naming the field).
/// Defaults and rules live only in the Domain (HyperparameterRanges, JobSpecValidator) and are applied at the API.
/// </summary>
public static class HyperparameterMapping
{
    /// <param name="device">The worker's device, which resolves precision auto: bf16 on CUDA, else fp32.</param>
    public static TrainingHyperparameters FromSpec(Spec.TrainingHyperparameters spec, long seed, int metricsInterval, DeviceType device = DeviceType.CPU)
    {
        var path = PathOf(spec);
        return new TrainingHyperparameters
        {
            NEpochs = Required(spec.NEpochs, path, "n_epochs"),
            BatchSize = Required(spec.BatchSize, path, "batch_size"),
            LearningRate = Required(spec.LearningRate, path, "learning_rate"),
            LrScheduler = Required(spec.LrScheduler, path, "lr_scheduler"),
            WarmupRatio = Required(spec.WarmupRatio, path, "warmup_ratio"),
            WeightDecay = Required(spec.WeightDecay, path, "weight_decay"),
            MaxGradNorm = Required(spec.MaxGradNorm, path, "max_grad_norm"),
            GradientAccumulationSteps = Required(spec.GradientAccumulationSteps, path, "gradient_accumulation_steps"),
            MaxSeqLength = Required(spec.MaxSeqLength, path, "max_seq_length"),
            EvalInterval = Required(spec.EvalInterval, path, "eval_interval"),
            CheckpointInterval = Required(spec.CheckpointInterval, path, "checkpoint_interval"),
            // Absent from specs stored before these fields existed: such a job runs as it was created.
            Packing = spec.Packing ?? Spec.HyperparameterRanges.DefaultPacking,
            GradientCheckpointing = spec.GradientCheckpointing ?? Spec.HyperparameterRanges.DefaultGradientCheckpointing,
            Precision = Precision(spec, device),
            TrainOnInputs = spec is Spec.SupervisedHyperparameters supervised && Required(supervised.TrainOnInputs, path, "train_on_inputs"),
            Lora = spec.Lora is { } lora ? new LoraSettings
            {
                Rank = Required(lora.R, path, "lora.r"),
                Alpha = Required(lora.Alpha, path, "lora.alpha"),
                Dropout = Required(lora.Dropout, path, "lora.dropout"),
                TargetModules = lora.TargetModules ?? throw Missing(path, "lora.target_modules"),
            } : null,
            Seed = seed,
            LogInterval = Math.Max(1, metricsInterval),
        };
    }

    /// <summary>
    /// "training in bf16" or "training in fp32", with how auto resolved when the job left precision to it: the phrase every
    /// method's model-loaded event ends with.
    /// </summary>
    public static string TrainingIn(Spec.TrainingHyperparameters spec, TrainingHyperparameters hyperparameters)
    {
        var note = (spec.Precision ?? Spec.Precisions.Auto) != Spec.Precisions.Auto ? ""
            : hyperparameters.Precision == TrainingPrecision.BFloat16 ? " (precision auto: bf16 on a GPU)" : " (precision auto: fp32 on the CPU)";
        return $"training in {hyperparameters.Precision.SpecName()}{note}";
    }

    /// <summary>
    /// The spec's precision, auto (or absent, in specs stored before the field existed) resolved for this worker's device:
    /// bf16 on CUDA, fp32 on the CPU, for every method.
    /// </summary>
    public static TrainingPrecision Precision(Spec.TrainingHyperparameters spec, DeviceType device) => (spec.Precision ?? Spec.HyperparameterRanges.DefaultPrecision) switch
    {
        Spec.Precisions.BFloat16 => TrainingPrecision.BFloat16,
        Spec.Precisions.Float32 => TrainingPrecision.Float32,
        Spec.Precisions.Auto => device == DeviceType.CUDA ? TrainingPrecision.BFloat16 : TrainingPrecision.Float32,
        var other => throw JobFailures.Fail(JobFailures.InvalidHyperparameters, $"precision '{other}' is not auto, bf16 or fp32.", $"{PathOf(spec)}.precision"),
    };

    public static PpoSettings Ppo(Spec.PpoHyperparameters spec)
    {
        var path = PathOf(spec);
        return new PpoSettings
        {
            KlCoef = Required(spec.KlCoef, path, "kl_coef"),
            KlEstimator = Required(spec.KlEstimator, path, "kl_estimator"),
            ClipRange = Required(spec.Cliprange, path, "cliprange"),
            ClipRangeValue = Required(spec.CliprangeValue, path, "cliprange_value"),
            VfCoef = Required(spec.VfCoef, path, "vf_coef"),
            Gamma = Required(spec.Gamma, path, "gamma"),
            Lam = Required(spec.Lam, path, "lam"),
            PpoEpochs = Required(spec.PpoEpochs, path, "ppo_epochs"),
            NumMiniBatches = Required(spec.NumMiniBatches, path, "num_mini_batches"),
            ResponseLength = Required(spec.ResponseLength, path, "response_length"),
            Temperature = Required(spec.Temperature, path, "temperature"),
            RolloutBatchSize = Required(spec.RolloutBatchSize, path, "rollout_batch_size"),
            TotalEpisodes = Required(spec.TotalEpisodes, path, "total_episodes"),
            MissingEosPenalty = Required(spec.MissingEosPenalty, path, "missing_eos_penalty"),
            WhitenRewards = Required(spec.WhitenRewards, path, "whiten_rewards"),
            KlTarget = spec.KlTarget,
            KlHorizon = spec.KlHorizon ?? Spec.HyperparameterRanges.KlHorizon.IntValue, // absent from specs stored before it existed
            KlBudget = spec.KlBudget,
        };
    }

    /// <summary>Early stopping, which weights to publish, and the forgetting threshold.</summary>
    public static GuardSettings Guards(Spec.TrainingHyperparameters spec)
    {
        var path = PathOf(spec);
        return new GuardSettings
        {
            EarlyStopping = spec.EarlyStopping is { } early
                ? new EarlyStoppingSettings(Required(early.Patience, path, "early_stopping.patience"), Required(early.MinDelta, path, "early_stopping.min_delta"))
                : null,
            // A spec stored before these fields existed runs as it was created: publishing its last weights.
            PublishBest = (spec.Publish ?? Spec.HyperparameterRanges.DefaultPublish(spec.EarlyStopping is not null)) == Spec.PublishChoices.Best,
            ForgettingThreshold = spec.ForgettingThreshold ?? Spec.HyperparameterRanges.ForgettingThreshold.Value,
        };
    }

    public static DpoSettings Dpo(Spec.DpoHyperparameters spec)
    {
        var path = PathOf(spec);
        return new DpoSettings
        {
            Beta = Required(spec.Beta, path, "beta"),
            LabelSmoothing = Required(spec.LabelSmoothing, path, "label_smoothing"),
            LossType = Required(spec.LossType, path, "loss_type"),
        };
    }

    public static RewardModelSettings RewardModel(Spec.RewardModelHyperparameters spec)
    {
        var path = PathOf(spec);
        return new RewardModelSettings
        {
            Margin = Required(spec.Margin, path, "margin"),
            CenterRewardsCoefficient = Required(spec.CenterRewardsCoefficient, path, "center_rewards_coefficient"),
        };
    }

    /// <summary>
    /// The Domain's context rule, for a model whose context the API could not read (it checks every preset, checkpoint and
    /// fine-tuned model it can): a max_seq_length beyond the position table fails the job, naming the field. Never clamped.
    /// </summary>
    public static TrainingHyperparameters WithinContext(this TrainingHyperparameters hyperparameters, int contextLength, Domain.Jobs.TrainingJob job) =>
        Spec.JobSpecValidation.MaxSeqLengthError(hyperparameters.MaxSeqLength, contextLength, job.Model) is { } message
            ? throw JobFailures.Fail(JobFailures.InvalidHyperparameters, message, $"method.{job.MethodType}.hyperparameters.max_seq_length")
            : hyperparameters;

    private static string PathOf(Spec.TrainingHyperparameters spec) => "method." + spec switch
    {
        Spec.SupervisedHyperparameters => Spec.MethodTypes.Supervised,
        Spec.InstructionHyperparameters => Spec.MethodTypes.Instruction,
        Spec.RewardModelHyperparameters => Spec.MethodTypes.RewardModel,
        Spec.DpoHyperparameters => Spec.MethodTypes.Dpo,
        Spec.PpoHyperparameters => Spec.MethodTypes.Ppo,
        _ => throw new ArgumentException($"Unknown hyperparameters {spec.GetType().Name}.", nameof(spec)),
    } + ".hyperparameters";

    private static T Required<T>(T? value, string path, string name) where T : struct => value ?? throw Missing(path, name);

    private static string Required(string? value, string path, string name) => value ?? throw Missing(path, name);

    private static JobFailureException Missing(string path, string name) => JobFailures.Fail(JobFailures.InvalidHyperparameters,
        $"The job's stored spec has no {name}; create the job again.", $"{path}.{name}");
}
