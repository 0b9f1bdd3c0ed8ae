using System.Text.Json.Serialization;

namespace TuningService.Domain.Jobs.Specs;

/// <summary>
/// Hyperparameters every method shares. Null = not given; in a resolved spec every field is set
/// (defaults and ranges: <see cref="HyperparameterRanges"/>, the one place they are written down; Swagger shows them from there).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public abstract record TrainingHyperparameters
{
    /// <summary>Passes over the training file, 1..50, or "auto" (= the default).</summary>
    /// <example>3</example>
    [JsonConverter(typeof(AutoIntConverter))]
    public int? NEpochs { get; init; }
    /// <summary>Examples per micro-batch, 1..256, or "auto" (= the default).</summary>
    /// <example>8</example>
    [JsonConverter(typeof(AutoIntConverter))]
    public int? BatchSize { get; init; }
    /// <summary>
    /// Peak learning rate, (0, 1]. Default: the method's base rate × learning_rate_multiplier (supervised/instruction 1e-4,
    /// reward_model 5e-5, dpo/ppo 1e-5 on pretrained checkpoints; on the random-init presets supervised 1e-2, instruction
    /// 3e-3, reward_model and dpo 1e-3, ppo 1e-4).
    /// </summary>
    public double? LearningRate { get; init; }
    /// <summary>
    /// Scales the method's base learning rate, (0, 100], or "auto" (= the default: 1 on a pretrained checkpoint, the
    /// multiplier that trains a random-init preset on one). Give this or learning_rate, not both.
    /// </summary>
    [JsonConverter(typeof(AutoDoubleConverter))]
    public double? LearningRateMultiplier { get; init; }
    /// <summary>linear | cosine | constant (after warmup).</summary>
    public string? LrScheduler { get; init; }
    /// <summary>Fraction of steps warming up, [0, 1).</summary>
    public double? WarmupRatio { get; init; }
    /// <summary>AdamW weight decay, [0, 1].</summary>
    public double? WeightDecay { get; init; }
    /// <summary>Gradient-norm clip, [0, 1000]; 0 = off.</summary>
    public double? MaxGradNorm { get; init; }
    /// <summary>Micro-batches per optimizer step, 1..1024.</summary>
    public int? GradientAccumulationSteps { get; init; }
    /// <summary>Tokens per example (longer ones are truncated), 8..131072 and at most the model's context. The default is capped at the model's context.</summary>
    public int? MaxSeqLength { get; init; }
    /// <summary>Optimizer steps between evaluations, 1..1000000.</summary>
    public int? EvalInterval { get; init; }
    /// <summary>Optimizer steps between checkpoints, 1..1000000.</summary>
    public int? CheckpointInterval { get; init; }
    /// <summary>Train a LoRA adapter instead of every weight. Absent = full fine-tune.</summary>
    public LoraSpec? Lora { get; init; }
    /// <summary>
    /// Stop when the validation loss has not improved by min_delta for patience evaluations (needs validation_file; not for ppo).
    /// Absent or null = off (the step where validation loss turns upward is still named in an event).
    /// </summary>
    public EarlyStoppingSpec? EarlyStopping { get; init; }
    /// <summary>
    /// best | last: publish the checkpoint with the lowest validation loss, or the weights after the last step. Default: best
    /// when early_stopping is on, else last. best needs validation_file (not for ppo).
    /// </summary>
    public string? Publish { get; init; }
    /// <summary>Relative rise of the reference_file's loss that raises a forgetting warning, (0, 100]; 0.1 = 10%.</summary>
    public double? ForgettingThreshold { get; init; }
    /// <summary>
    /// Pack several examples into each row of up to max_seq_length tokens (supervised and instruction only), each example
    /// attending only to itself with its positions starting at 0, so the loss is the unpacked loss with less padding.
    /// batch_size then counts packed rows. Default false.
    /// </summary>
    public bool? Packing { get; init; }
    /// <summary>Keep only each transformer block's input and recompute the block in backward: less activation memory for more compute. Default false.</summary>
    public bool? GradientCheckpointing { get; init; }
    /// <summary>
    /// auto | bf16 | fp32: the number format of weights and activations. bf16 keeps the optimizer state (and, for a full
    /// fine-tune, master weights) in fp32 and reduces the loss in fp32; with LoRA the frozen base is bf16 and only the
    /// adapters are fp32. auto (default) = bf16 on a CUDA worker, fp32 on a CPU worker, for every method. reward_model, dpo and
    /// ppo: the trained model (with its scalar head) as above, the frozen reference and reward model in bf16; log-probabilities,
    /// rewards, KL and advantages in fp32.
    /// </summary>
    /// <example>auto</example>
    public string? Precision { get; init; }
}

/// <summary>Early stopping on the validation loss, checked at every evaluation (every eval_interval steps).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record EarlyStoppingSpec
{
    /// <summary>Evaluations without improvement before training stops, 1..1000.</summary>
    /// <example>3</example>
    public int? Patience { get; init; }
    /// <summary>Smallest fall of the validation loss that counts as an improvement, [0, 1000].</summary>
    /// <example>0</example>
    public double? MinDelta { get; init; }
}

/// <summary>A low-rank adapter on the named linear layers.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record LoraSpec
{
    /// <summary>Rank, 1..1024.</summary>
    public int? R { get; init; }
    /// <summary>Scaling numerator (scale = alpha / r), 1..4096.</summary>
    public int? Alpha { get; init; }
    /// <summary>Dropout on the adapter input, [0, 1).</summary>
    public double? Dropout { get; init; }
    /// <summary>Linear layer names to adapt (≤ 32). Default per architecture as in PEFT: gpt2 ["c_attn"], phi3 ["qkv_proj"], the Llama family ["q_proj","v_proj"].</summary>
    public List<string>? TargetModules { get; init; }
}

/// <summary>Supervised fine-tuning on prompt_completion or text files.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SupervisedHyperparameters : TrainingHyperparameters
{
    /// <summary>Also compute the loss on prompt tokens (text files always train on every token).</summary>
    public bool? TrainOnInputs { get; init; }
}

/// <summary>Instruction tuning on chat files (loss on assistant turns with weight ≠ 0).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record InstructionHyperparameters : TrainingHyperparameters;

/// <summary>RLHF stage 1: a scalar reward head trained on preference pairs.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record RewardModelHyperparameters : TrainingHyperparameters
{
    /// <summary>Margin in −log σ(r_chosen − r_rejected − margin), [0, 100]; 0 = none.</summary>
    public double? Margin { get; init; }
    /// <summary>Weight of the (r_chosen + r_rejected)² centring penalty, [0, 10].</summary>
    public double? CenterRewardsCoefficient { get; init; }
}

/// <summary>Direct preference optimisation against a frozen copy of the model.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record DpoHyperparameters : TrainingHyperparameters
{
    /// <summary>β, (0, 10], or "auto" (= the default).</summary>
    [JsonConverter(typeof(AutoDoubleConverter))]
    public double? Beta { get; init; }
    /// <summary>Conservative-DPO label noise, [0, 0.5).</summary>
    public double? LabelSmoothing { get; init; }
    /// <summary>sigmoid | ipo</summary>
    public string? LossType { get; init; }
}

/// <summary>RLHF stage 2: PPO of the policy (from <c>model</c>) against a reward model, with a KL penalty to a frozen reference.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PpoHyperparameters : TrainingHyperparameters
{
    /// <summary>Required: id of a reward model trained by a reward_model job of this project.</summary>
    public string? RewardModel { get; init; }
    /// <summary>Per-token KL penalty coefficient, [0, 10].</summary>
    public double? KlCoef { get; init; }
    /// <summary>k1 (log-ratio) | k3 (unbiased, low variance).</summary>
    public string? KlEstimator { get; init; }
    /// <summary>Policy ratio clip ε, (0, 1].</summary>
    public double? Cliprange { get; init; }
    /// <summary>Value clip, (0, 100].</summary>
    public double? CliprangeValue { get; init; }
    /// <summary>Value-loss weight, [0, 10].</summary>
    public double? VfCoef { get; init; }
    /// <summary>Discount, [0, 1].</summary>
    public double? Gamma { get; init; }
    /// <summary>GAE λ, [0, 1].</summary>
    public double? Lam { get; init; }
    /// <summary>Optimisation passes per rollout batch, 1..100.</summary>
    public int? PpoEpochs { get; init; }
    /// <summary>Mini-batches per rollout batch, 1..256.</summary>
    public int? NumMiniBatches { get; init; }
    /// <summary>Maximum generated tokens, 1..8192, less than max_seq_length (the prompt gets the rest).</summary>
    public int? ResponseLength { get; init; }
    /// <summary>Sampling temperature, (0, 10].</summary>
    public double? Temperature { get; init; }
    /// <summary>Prompts per rollout batch, 1..4096, a multiple of num_mini_batches.</summary>
    public int? RolloutBatchSize { get; init; }
    /// <summary>Prompts to roll out in total. Default: n_epochs × examples in the training file.</summary>
    public long? TotalEpisodes { get; init; }
    /// <summary>Reward penalty for a response without end-of-sequence, [0, 100]; 0 = none.</summary>
    public double? MissingEosPenalty { get; init; }
    /// <summary>Whiten rewards per batch before GAE.</summary>
    public bool? WhitenRewards { get; init; }
    /// <summary>Adaptive KL controller target, (0, 1000] nats per response: kl_coef is steered so objective/kl stays near it. Absent = kl_coef fixed.</summary>
    public double? KlTarget { get; init; }
    /// <summary>Adaptive KL controller horizon in episodes, 1..1e9: kl_coef ×= 1 + clip(kl/kl_target − 1, ±0.2) · rollout_batch_size / kl_horizon.</summary>
    public long? KlHorizon { get; init; }
    /// <summary>Mean KL to the reference (nats per response), (0, 1e6]: a rollout past it stops the run with kl_budget_exceeded. Absent = none.</summary>
    public double? KlBudget { get; init; }
}
