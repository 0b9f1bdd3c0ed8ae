namespace TuningService.Worker.Engine.Training;

/// <summary>Low-rank adapters on chosen linear layers; the base model stays frozen. Every value comes from the resolved job spec.</summary>
public sealed record LoraSettings
{
    /// <summary>Rank r of the update B·A.</summary>
    public required int Rank { get; init; }
    /// <summary>Scale numerator: the update is multiplied by alpha / r.</summary>
    public required double Alpha { get; init; }
    /// <summary>Dropout on the adapter's input, in [0, 1).</summary>
    public required double Dropout { get; init; }
    /// <summary>Last name segment of the targeted layers (q_proj, v_proj, c_attn, ...).</summary>
    public required IReadOnlyList<string> TargetModules { get; init; }
}

/// <summary>
/// Every knob of a training run. The ones a job spec carries are required and come only from the resolved spec
/// (defaults and ranges: the Domain's HyperparameterRanges; rules: its JobSpecValidator, checked at the API), so the
/// engine has no defaults or validation of its own for them. The engine-only knobs below keep documented constants.
/// Saved in every checkpoint. Batch semantics follow Hugging Face: an optimizer step sees BatchSize × GradientAccumulationSteps examples.
/// </summary>
public sealed record TrainingHyperparameters
{
    /// <summary>Passes over the training set.</summary>
    public required int NEpochs { get; init; }
    /// <summary>Examples per micro-batch (one forward/backward).</summary>
    public required int BatchSize { get; init; }
    /// <summary>Peak learning rate, reached after warmup.</summary>
    public required double LearningRate { get; init; }
    /// <summary>linear, cosine or constant decay after warmup (linear/cosine end at 0).</summary>
    public required string LrScheduler { get; init; }
    /// <summary>Fraction of total steps spent warming up linearly from 0.</summary>
    public required double WarmupRatio { get; init; }
    /// <summary>Decoupled AdamW weight decay, applied to matrices only (embeddings and linear weights), not to norms or biases.</summary>
    public required double WeightDecay { get; init; }
    /// <summary>Global L2 gradient norm clip; 0 disables.</summary>
    public required double MaxGradNorm { get; init; }
    /// <summary>Micro-batches per optimizer step; the loss is normalised by all their label tokens together.</summary>
    public required int GradientAccumulationSteps { get; init; }
    /// <summary>Tokens per example, at most the model's context; longer examples are truncated (and dropped if no label is left).</summary>
    public required int MaxSeqLength { get; init; }
    /// <summary>Optimizer steps between validations; 0 = only at the end.</summary>
    public required int EvalInterval { get; init; }
    /// <summary>Optimizer steps between checkpoints; 0 = only at the end.</summary>
    public required int CheckpointInterval { get; init; }
    /// <summary>Seeds weight init of adapters, dropout and data order.</summary>
    public required long Seed { get; init; }
    /// <summary>Also train on prompt tokens.</summary>
    public required bool TrainOnInputs { get; init; }
    /// <summary>Null = full fine-tune.</summary>
    public required LoraSettings? Lora { get; init; }
    /// <summary>Pack examples into rows of up to MaxSeqLength tokens (per-example attention and positions); BatchSize then counts rows.</summary>
    public required bool Packing { get; init; }
    /// <summary>Recompute each transformer block in backward instead of keeping its activations.</summary>
    public required bool GradientCheckpointing { get; init; }
    /// <summary>fp32, or bf16 weights and activations with fp32 optimizer state (and master weights); see <see cref="TrainingPrecision"/>.</summary>
    public required TrainingPrecision Precision { get; init; }

    // Engine-only knobs (no job-spec field): documented constants.
    /// <summary>Optimizer steps between metric reports (each reads the loss off the device: a sync point). The worker sets it from its options.</summary>
    public int LogInterval { get; init; } = 1;
    /// <summary>Validation examples whose labels are at most this many tokens are also scored by greedy generation (exact match).</summary>
    public int ExactMatchMaxLabelTokens { get; init; } = 16;
    /// <summary>At most this many validation examples are generated for exact match (generation is slow).</summary>
    public int ExactMatchMaxExamples { get; init; } = 128;
    /// <summary>Batch examples of similar length (little padding). Off = plain shuffled batches padded to their longest example (a benchmark baseline).</summary>
    public bool GroupByLength { get; init; } = true;
    /// <summary>AdamW β1, β2, ε: PyTorch's and Hugging Face's defaults.</summary>
    public double AdamBeta1 { get; init; } = 0.9;
    public double AdamBeta2 { get; init; } = 0.999;
    public double AdamEpsilon { get; init; } = 1e-8;
}
