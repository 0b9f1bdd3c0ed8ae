namespace TuningService.Worker.Engine.Rlhf;

/// <summary>
/// PPO's own knobs, named like TRL's PPOConfig. Every value a job spec carries is required and comes from the resolved
/// spec (defaults and rules: the Domain's HyperparameterRanges and JobSpecValidator, checked at the API).
/// </summary>
public sealed record PpoSettings
{
    /// <summary>Weight of the per-token KL penalty to the reference (β in InstructGPT).</summary>
    public required double KlCoef { get; init; }
    /// <summary>k1 (log π − log π_ref) or k3 ((r − 1) − log r, lower variance, never negative).</summary>
    public required string KlEstimator { get; init; }
    /// <summary>Policy ratio clip ε.</summary>
    public required double ClipRange { get; init; }
    /// <summary>Value clip around the rollout's values, in reward units.</summary>
    public required double ClipRangeValue { get; init; }
    /// <summary>Weight of the value loss in the total loss.</summary>
    public required double VfCoef { get; init; }
    /// <summary>Discount per token.</summary>
    public required double Gamma { get; init; }
    /// <summary>GAE λ: 1 is Monte Carlo, 0 one-step TD.</summary>
    public required double Lam { get; init; }
    /// <summary>Optimisation passes over each rollout batch.</summary>
    public required int PpoEpochs { get; init; }
    /// <summary>Minibatches per pass (one optimizer step each); divides RolloutBatchSize.</summary>
    public required int NumMiniBatches { get; init; }
    /// <summary>Most tokens sampled per response; less than max_seq_length, which prompt and response share.</summary>
    public required int ResponseLength { get; init; }
    /// <summary>Sampling temperature; log-probabilities are computed on logits divided by it, as sampled.</summary>
    public required double Temperature { get; init; }
    /// <summary>Prompts per rollout (one PPO update each).</summary>
    public required int RolloutBatchSize { get; init; }
    /// <summary>Prompts sampled over the whole run (the spec's default: n_epochs × number of prompts).</summary>
    public required long TotalEpisodes { get; init; }
    /// <summary>Subtracted from the score of a response that ended without EOS; 0 = none.</summary>
    public required double MissingEosPenalty { get; init; }
    /// <summary>Whiten the per-token rewards (without shifting their mean) before GAE.</summary>
    public required bool WhitenRewards { get; init; }

    /// <summary>
    /// Adaptive KL controller (Ziegler et al. 2019): after each update kl_coef ×= 1 + clip(kl / KlTarget − 1, −0.2, 0.2) ·
    /// RolloutBatchSize / KlHorizon, steering the mean KL per response toward the target. Null = kl_coef stays fixed.
    /// </summary>
    public required double? KlTarget { get; init; }
    /// <summary>The controller's horizon in episodes: larger = slower changes of kl_coef.</summary>
    public required long KlHorizon { get; init; }
    /// <summary>Mean KL per response (nats) that a rollout may not exceed: past it the run stops (<see cref="KlBudgetExceededException"/>). Null = none.</summary>
    public required double? KlBudget { get; init; }

    /// <summary>Sampled responses shown in the events at each evaluation (engine-only: no spec field).</summary>
    public int SamplesPerEvaluation { get; init; } = 3;
}

/// <summary>
/// A rollout's mean KL to the reference exceeded the run's kl_budget: the policy has drifted further than allowed (reward
/// hacking shows up as growing KL). Thrown before that rollout's update, so the policy is not trained further.
/// </summary>
public sealed class KlBudgetExceededException(int step, double kl, double budget, double klCoef)
    : Exception($"The policy's mean KL to the reference reached {kl:0.###} nats per response at update {step + 1}, past kl_budget {budget:G}.")
{
    public int Step { get; } = step;
    public double Kl { get; } = kl;
    public double Budget { get; } = budget;
    public double KlCoef { get; } = klCoef;
}
