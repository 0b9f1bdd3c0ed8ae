namespace TuningService.Worker.Engine.Training;

/// <summary>Low-rank adapters on chosen linear layers; the base model stays frozen.</summary>
public sealed record LoraSettings
{
    /// <summary>Rank r of the update B·A.</summary>
    public int Rank { get; init; } = 8;
    /// <summary>Scale numerator: the update is multiplied by alpha / r.</summary>
    public double Alpha { get; init; } = 16;
    /// <summary>Dropout on the adapter's input, in [0, 1).</summary>
    public double Dropout { get; init; } = 0.05;
    /// <summary>Last name segment of the targeted layers (q_proj, v_proj, c_attn, ...); empty = the architecture's default.</summary>
    public IReadOnlyList<string> TargetModules { get; init; } = [];
}

/// <summary>
/// Every knob of a training run, with defaults. Saved in every checkpoint; a resumed run uses the saved copy.
/// Batch semantics follow Hugging Face: an optimizer step sees BatchSize × GradientAccumulationSteps examples.
/// </summary>
public sealed record TrainingHyperparameters
{
    /// <summary>Passes over the training set.</summary>
    public int NEpochs { get; init; } = 3;
    /// <summary>Examples per micro-batch (one forward/backward).</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Peak learning rate, reached after warmup.</summary>
    public double LearningRate { get; init; } = 1e-4;
    /// <summary>linear, cosine or constant decay after warmup (linear/cosine end at 0).</summary>
    public string LrScheduler { get; init; } = "linear";
    /// <summary>Fraction of total steps spent warming up linearly from 0.</summary>
    public double WarmupRatio { get; init; } = 0.0;
    /// <summary>Decoupled AdamW weight decay, applied to matrices only (embeddings and linear weights), not to norms or biases.</summary>
    public double WeightDecay { get; init; } = 0.0;
    /// <summary>Global L2 gradient norm clip; 0 disables.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>Micro-batches per optimizer step; the loss is normalised by all their label tokens together.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>Tokens per example; longer examples are truncated (and dropped if no label is left).</summary>
    public int MaxSeqLength { get; init; } = 1024;
    /// <summary>Optimizer steps between validations; 0 = only at the end.</summary>
    public int EvalInterval { get; init; } = 0;
    /// <summary>Optimizer steps between checkpoints; 0 = only at the end.</summary>
    public int CheckpointInterval { get; init; } = 0;
    /// <summary>Optimizer steps between metric reports (each reads the loss off the device: a sync point).</summary>
    public int LogInterval { get; init; } = 1;
    /// <summary>Seeds weight init of adapters, dropout and data order.</summary>
    public long Seed { get; init; } = 42;
    /// <summary>Also train on prompt tokens.</summary>
    public bool TrainOnInputs { get; init; }
    /// <summary>Null = full fine-tune.</summary>
    public LoraSettings? Lora { get; init; }
    /// <summary>Validation examples whose labels are at most this many tokens are also scored by greedy generation (exact match).</summary>
    public int ExactMatchMaxLabelTokens { get; init; } = 16;
    /// <summary>At most this many validation examples are generated for exact match (generation is slow).</summary>
    public int ExactMatchMaxExamples { get; init; } = 128;
    /// <summary>Batch examples of similar length (little padding). Off = plain shuffled batches padded to their longest example (a benchmark baseline).</summary>
    public bool GroupByLength { get; init; } = true;
    public double AdamBeta1 { get; init; } = 0.9;
    public double AdamBeta2 { get; init; } = 0.999;
    public double AdamEpsilon { get; init; } = 1e-8;

    public TrainingHyperparameters Validate()
    {
        if (NEpochs < 1) throw new ArgumentOutOfRangeException(nameof(NEpochs));
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize));
        if (GradientAccumulationSteps < 1) throw new ArgumentOutOfRangeException(nameof(GradientAccumulationSteps));
        if (LearningRate <= 0) throw new ArgumentOutOfRangeException(nameof(LearningRate));
        if (LrScheduler is not ("linear" or "cosine" or "constant")) throw new ArgumentOutOfRangeException(nameof(LrScheduler));
        if (WarmupRatio is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(WarmupRatio));
        if (MaxSeqLength < 2) throw new ArgumentOutOfRangeException(nameof(MaxSeqLength));
        return this;
    }
}
