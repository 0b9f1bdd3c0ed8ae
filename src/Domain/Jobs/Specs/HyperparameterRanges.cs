using System.Globalization;
using TuningService.Domain.Datasets;

namespace TuningService.Domain.Jobs.Specs;

/// <summary>
/// A numeric hyperparameter's documented default and allowed range. The single source for docs, validation and resolution.
/// <see cref="Default"/> is null where the default is computed (learning_rate per method, total_episodes from the file).
/// </summary>
public sealed record NumericRange(string Name, double? Default, double Min, double Max, bool MinExclusive = false, bool MaxExclusive = false, bool AcceptsAuto = false)
{
    /// <summary>The fixed default; only for ranges that have one.</summary>
    public double Value => Default ?? throw new InvalidOperationException($"{Name} has no fixed default.");

    /// <summary>The fixed default of an integer hyperparameter.</summary>
    public int IntValue => (int)Value;

    public bool Contains(double value) =>
        double.IsFinite(value)
        && (MinExclusive ? value > Min : value >= Min)
        && (MaxExclusive ? value < Max : value <= Max);

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Name} must be {(MinExclusive ? ">" : "≥")} {Min:G} and {(MaxExclusive ? "<" : "≤")} {Max:G}");
}

/// <summary>
/// Defaults and ranges of every job-spec hyperparameter: the only place they are written down. The API validates
/// against them, Swagger shows them (<see cref="DocumentedDefaults"/>), and <see cref="JobSpecResolver"/> fills absent
/// fields (and <c>"auto"</c>) with them; the worker's engine has no defaults of its own for anything the spec carries.
/// </summary>
public static class HyperparameterRanges
{
    // Common to every method.
    /// <summary>Passes over the training file. auto = 3.</summary>
    public static readonly NumericRange NEpochs = new("n_epochs", 3, 1, 50, AcceptsAuto: true);
    /// <summary>Examples per micro-batch. auto = 8.</summary>
    public static readonly NumericRange BatchSize = new("batch_size", 8, 1, 256, AcceptsAuto: true);
    /// <summary>Absolute peak learning rate. Default: the method's base rate × learning_rate_multiplier.</summary>
    public static readonly NumericRange LearningRate = new("learning_rate", null, 0, 1, MinExclusive: true);
    /// <summary>
    /// OpenAI's knob: scales the method's base learning rate. auto = 1 on a pretrained checkpoint; on a random-init preset
    /// (or a model fine-tuned from one) <see cref="AutoLearningRateMultiplier"/> gives the rate that trains it.
    /// </summary>
    public static readonly NumericRange LearningRateMultiplier = new("learning_rate_multiplier", 1, 0, 100, MinExclusive: true, AcceptsAuto: true);
    /// <summary>Fraction of optimizer steps spent warming the learning rate up linearly from 0.</summary>
    public static readonly NumericRange WarmupRatio = new("warmup_ratio", 0, 0, 1, MaxExclusive: true);
    /// <summary>AdamW decoupled weight decay.</summary>
    public static readonly NumericRange WeightDecay = new("weight_decay", 0, 0, 1);
    /// <summary>Global gradient-norm clip; 0 turns clipping off.</summary>
    public static readonly NumericRange MaxGradNorm = new("max_grad_norm", 1, 0, 1000);
    /// <summary>Micro-batches per optimizer step.</summary>
    public static readonly NumericRange GradientAccumulationSteps = new("gradient_accumulation_steps", 1, 1, 1024);
    /// <summary>Tokens per example; longer examples are truncated. The default is capped at the model's context; a value beyond it is refused.</summary>
    public static readonly NumericRange MaxSeqLength = new("max_seq_length", 512, 8, 131072);
    /// <summary>Optimizer steps between evaluations on the validation file.</summary>
    public static readonly NumericRange EvalInterval = new("eval_interval", 100, 1, 1_000_000);
    /// <summary>Optimizer steps between checkpoints.</summary>
    public static readonly NumericRange CheckpointInterval = new("checkpoint_interval", 100, 1, 1_000_000);

    // Guards against the seed's pitfalls: overfitting (early stopping, best checkpoint) and forgetting (reference text).
    /// <summary>Evaluations without an improvement of the validation loss before training stops.</summary>
    public static readonly NumericRange Patience = new("patience", 3, 1, 1000);
    /// <summary>Smallest fall of the validation loss (nats per token) that counts as an improvement.</summary>
    public static readonly NumericRange MinDelta = new("min_delta", 0, 0, 1000);
    /// <summary>Relative rise of the reference text's loss past which a forgetting warning is raised (0.1 = 10%).</summary>
    public static readonly NumericRange ForgettingThreshold = new("forgetting_threshold", 0.1, 0, 100, MinExclusive: true);
    /// <summary>Reference lines whose loss is measured (the first ones of reference_file); measuring costs an evaluation pass.</summary>
    public const int MaxReferenceLines = 256;

    // LoRA (absent = full fine-tune).
    public static readonly NumericRange LoraR = new("r", 8, 1, 1024);
    public static readonly NumericRange LoraAlpha = new("alpha", 16, 1, 4096);
    public static readonly NumericRange LoraDropout = new("dropout", 0.05, 0, 1, MaxExclusive: true);
    public const int MaxLoraTargetModules = 32;

    // reward_model
    /// <summary>Margin m in −log σ(r_chosen − r_rejected − m); 0 = no margin.</summary>
    public static readonly NumericRange Margin = new("margin", 0, 0, 100);
    /// <summary>Penalty weight on (r_chosen + r_rejected)² that keeps rewards centred on 0.</summary>
    public static readonly NumericRange CenterRewardsCoefficient = new("center_rewards_coefficient", 0, 0, 10);

    // dpo
    /// <summary>β: strength of the implicit KL constraint to the reference. auto = 0.1.</summary>
    public static readonly NumericRange Beta = new("beta", 0.1, 0, 10, MinExclusive: true, AcceptsAuto: true);
    /// <summary>Conservative DPO: assumed probability that a preference label is flipped.</summary>
    public static readonly NumericRange LabelSmoothing = new("label_smoothing", 0, 0, 0.5, MaxExclusive: true);

    // ppo
    public static readonly NumericRange KlCoef = new("kl_coef", 0.05, 0, 10);
    public static readonly NumericRange Cliprange = new("cliprange", 0.2, 0, 1, MinExclusive: true);
    public static readonly NumericRange CliprangeValue = new("cliprange_value", 0.2, 0, 100, MinExclusive: true);
    public static readonly NumericRange VfCoef = new("vf_coef", 0.1, 0, 10);
    public static readonly NumericRange Gamma = new("gamma", 1, 0, 1);
    public static readonly NumericRange Lam = new("lam", 0.95, 0, 1);
    public static readonly NumericRange PpoEpochs = new("ppo_epochs", 4, 1, 100);
    public static readonly NumericRange NumMiniBatches = new("num_mini_batches", 1, 1, 256);
    /// <summary>Maximum generated tokens per rollout; prompt and response share max_seq_length, so it must be smaller.</summary>
    public static readonly NumericRange ResponseLength = new("response_length", 64, 1, 8192);
    public static readonly NumericRange Temperature = new("temperature", 0.7, 0, 10, MinExclusive: true);
    /// <summary>Prompts per rollout batch; a multiple of num_mini_batches.</summary>
    public static readonly NumericRange RolloutBatchSize = new("rollout_batch_size", 8, 1, 4096);
    /// <summary>Total prompts to roll out. Default: n_epochs × examples in the training file.</summary>
    public static readonly NumericRange TotalEpisodes = new("total_episodes", null, 1, 100_000_000);
    /// <summary>Subtracted from the reward of a response that hit response_length without an end-of-sequence token; 0 = none.</summary>
    public static readonly NumericRange MissingEosPenalty = new("missing_eos_penalty", 0, 0, 100);
    /// <summary>Adaptive KL controller's target (nats per response, as objective/kl); absent = kl_coef stays fixed.</summary>
    public static readonly NumericRange KlTarget = new("kl_target", null, 0, 1000, MinExclusive: true);
    /// <summary>Adaptive KL controller's horizon in episodes (Ziegler et al. 2019; TRL's default 10000).</summary>
    public static readonly NumericRange KlHorizon = new("kl_horizon", 10_000, 1, 1_000_000_000);
    /// <summary>Mean KL to the reference (nats per response) past which the run stops with kl_budget_exceeded; absent = none.</summary>
    public static readonly NumericRange KlBudget = new("kl_budget", null, 0, 1_000_000, MinExclusive: true);

    /// <summary>Base learning rate per method (learning_rate = base × learning_rate_multiplier unless learning_rate is given).</summary>
    public static double BaseLearningRate(string method) => method switch
    {
        MethodTypes.Supervised or MethodTypes.Instruction => 1e-4,
        MethodTypes.RewardModel => 5e-5,
        MethodTypes.Dpo => 1e-5,
        MethodTypes.Ppo => 1e-5,
        _ => 1e-4,
    };

    /// <summary>
    /// learning_rate_multiplier when absent or "auto". Pretrained checkpoints: 1 (the conventional base rates above).
    /// The random-init presets learn nothing at those rates (a default supervised job moved the loss 10.8 → 9.2); these
    /// multipliers give the rates the suite's learning tests train them at: supervised 1e-2, instruction 3e-3,
    /// reward_model 1e-3, dpo 1e-3, ppo 1e-4.
    /// </summary>
    public static double AutoLearningRateMultiplier(string method, bool randomInitBase) => !randomInitBase ? LearningRateMultiplier.Value : method switch
    {
        MethodTypes.Supervised => 100,
        MethodTypes.Instruction => 30,
        MethodTypes.RewardModel => 20,
        MethodTypes.Dpo => 100,
        MethodTypes.Ppo => 10,
        _ => LearningRateMultiplier.Value,
    };

    public const string DefaultLrScheduler = LrSchedulers.Linear;
    public const bool DefaultTrainOnInputs = false;
    public const bool DefaultPacking = false;
    public const bool DefaultGradientCheckpointing = false;
    /// <summary>auto: bf16 on a CUDA worker, fp32 on a CPU worker (resolved by the worker that runs the job, which knows its device).</summary>
    public const string DefaultPrecision = Precisions.Auto;
    public const string DefaultDpoLossType = DpoLossTypes.Sigmoid;
    public const string DefaultKlEstimator = KlEstimators.K1;
    public const bool DefaultWhitenRewards = false;

    /// <summary>What is published: the best checkpoint by validation loss when early stopping is on, else the last step.</summary>
    public static string DefaultPublish(bool earlyStopping) => earlyStopping ? PublishChoices.Best : PublishChoices.Last;

    /// <summary>PEFT's default LoRA target modules per architecture (used when lora.target_modules is absent).</summary>
    public static IReadOnlyList<string> DefaultLoraTargetModules(string? architecture) => architecture switch
    {
        "gpt2" => ["c_attn"],
        "phi3" => ["qkv_proj"],
        _ => ["q_proj", "v_proj"],
    };

    /// <summary>Every numeric range by JSON name (for Swagger's schema filter).</summary>
    public static IReadOnlyDictionary<string, NumericRange> ByName { get; } = typeof(HyperparameterRanges)
        .GetFields().Where(f => f.FieldType == typeof(NumericRange)).Select(f => (NumericRange)f.GetValue(null)!)
        .ToDictionary(r => r.Name);

    /// <summary>
    /// Every fixed default by JSON name, numeric and not (Swagger shows them as each property's <c>default</c>). Computed
    /// defaults (learning_rate, total_episodes, lora.target_modules) are described in the fields' docs instead.
    /// </summary>
    public static IReadOnlyDictionary<string, object> DocumentedDefaults { get; } = ByName.Values
        .Where(r => r.Default is not null).Select(r => KeyValuePair.Create(r.Name, (object)r.Default!.Value))
        .Concat(new Dictionary<string, object>
        {
            ["lr_scheduler"] = DefaultLrScheduler,
            ["train_on_inputs"] = DefaultTrainOnInputs,
            ["packing"] = DefaultPacking,
            ["gradient_checkpointing"] = DefaultGradientCheckpointing,
            ["precision"] = DefaultPrecision,
            ["loss_type"] = DefaultDpoLossType,
            ["kl_estimator"] = DefaultKlEstimator,
            ["whiten_rewards"] = DefaultWhitenRewards,
        })
        .ToDictionary();
}

public static class MethodTypes
{
    public const string Supervised = "supervised";
    public const string Instruction = "instruction";
    public const string RewardModel = "reward_model";
    public const string Ppo = "ppo";
    public const string Dpo = "dpo";
    public static readonly IReadOnlyList<string> All = [Supervised, Instruction, RewardModel, Ppo, Dpo];
    /// <summary>Methods that train on single sequences and so may pack them (preference pairs and rollouts are not packed).</summary>
    public static readonly IReadOnlyList<string> Packable = [Supervised, Instruction];

    /// <summary>Dataset formats each method trains on.</summary>
    public static IReadOnlyList<string> FormatsFor(string method) => method switch
    {
        Supervised => [DatasetFormat.PromptCompletion, DatasetFormat.Text],
        Instruction => [DatasetFormat.Chat],
        RewardModel or Dpo => [DatasetFormat.Preference],
        Ppo => [DatasetFormat.PromptOnly],
        _ => [],
    };
}

/// <summary>Which weights a job publishes as its model.</summary>
public static class PublishChoices
{
    /// <summary>The checkpoint with the lowest validation loss (saved when it was seen).</summary>
    public const string Best = "best";
    /// <summary>The weights after the last step trained.</summary>
    public const string Last = "last";
    public static readonly IReadOnlyList<string> All = [Best, Last];
}

/// <summary>The number format a job trains in (the <c>precision</c> hyperparameter).</summary>
public static class Precisions
{
    /// <summary>bf16 on a CUDA worker, fp32 on a CPU worker; the worker records what it chose in the job's events and checkpoints.</summary>
    public const string Auto = "auto";
    /// <summary>bfloat16 weights and activations, fp32 optimizer state and master weights (a LoRA job: bf16 frozen base, fp32 adapters).</summary>
    public const string BFloat16 = "bf16";
    /// <summary>float32 throughout.</summary>
    public const string Float32 = "fp32";
    public static readonly IReadOnlyList<string> All = [Auto, BFloat16, Float32];
}

public static class LrSchedulers
{
    public const string Linear = "linear";
    public const string Cosine = "cosine";
    public const string Constant = "constant";
    public static readonly IReadOnlyList<string> All = [Linear, Cosine, Constant];
}

public static class DpoLossTypes
{
    public const string Sigmoid = "sigmoid";
    public const string Ipo = "ipo";
    public static readonly IReadOnlyList<string> All = [Sigmoid, Ipo];
}

public static class KlEstimators
{
    public const string K1 = "k1";
    public const string K3 = "k3";
    public static readonly IReadOnlyList<string> All = [K1, K3];
}
