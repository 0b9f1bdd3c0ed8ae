namespace TuningService.Worker.Engine.Rlhf;

/// <summary>PPO's own knobs, named and defaulted like TRL's PPOConfig (response length shortened for CPU runs).</summary>
public sealed record PpoSettings
{
    /// <summary>Weight of the per-token KL penalty to the reference (β in InstructGPT).</summary>
    public double KlCoef { get; init; } = 0.05;
    /// <summary>k1 (log π − log π_ref) or k3 ((r − 1) − log r, lower variance, never negative).</summary>
    public string KlEstimator { get; init; } = "k1";
    /// <summary>Policy ratio clip ε.</summary>
    public double ClipRange { get; init; } = 0.2;
    /// <summary>Value clip around the rollout's values, in reward units.</summary>
    public double ClipRangeValue { get; init; } = 0.2;
    /// <summary>Weight of the value loss in the total loss.</summary>
    public double VfCoef { get; init; } = 0.1;
    /// <summary>Discount per token.</summary>
    public double Gamma { get; init; } = 1.0;
    /// <summary>GAE λ: 1 is Monte Carlo, 0 one-step TD.</summary>
    public double Lam { get; init; } = 0.95;
    /// <summary>Optimisation passes over each rollout batch.</summary>
    public int PpoEpochs { get; init; } = 4;
    /// <summary>Minibatches per pass (one optimizer step each).</summary>
    public int NumMiniBatches { get; init; } = 1;
    /// <summary>Most tokens sampled per response (TRL: 53; shorter by default for CPU workers).</summary>
    public int ResponseLength { get; init; } = 24;
    /// <summary>Sampling temperature; log-probabilities are computed on logits divided by it, as sampled.</summary>
    public double Temperature { get; init; } = 0.7;
    /// <summary>Prompts per rollout (one PPO update each).</summary>
    public int RolloutBatchSize { get; init; } = 8;
    /// <summary>Prompts sampled over the whole run; null = n_epochs × number of prompts.</summary>
    public int? TotalEpisodes { get; init; }
    /// <summary>Subtracted from the score of a response that ended without EOS; null = none.</summary>
    public double? MissingEosPenalty { get; init; }
    /// <summary>Whiten the per-token rewards (without shifting their mean) before GAE.</summary>
    public bool WhitenRewards { get; init; }
    /// <summary>Sampled responses shown in the events at each evaluation.</summary>
    public int SamplesPerEvaluation { get; init; } = 3;

    public PpoSettings Validate()
    {
        if (KlEstimator is not ("k1" or "k3")) throw new ArgumentOutOfRangeException(nameof(KlEstimator), "kl_estimator must be k1 or k3.");
        if (RolloutBatchSize < 1 || NumMiniBatches < 1 || RolloutBatchSize % NumMiniBatches != 0)
            throw new ArgumentOutOfRangeException(nameof(NumMiniBatches), "rollout_batch_size must be a positive multiple of num_mini_batches.");
        if (PpoEpochs < 1) throw new ArgumentOutOfRangeException(nameof(PpoEpochs));
        if (ResponseLength < 1) throw new ArgumentOutOfRangeException(nameof(ResponseLength));
        if (Temperature <= 0) throw new ArgumentOutOfRangeException(nameof(Temperature), "temperature must be positive: PPO samples.");
        return this;
    }
}
