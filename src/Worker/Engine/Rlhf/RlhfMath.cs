using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TuningService.Worker.Engine.Rlhf;

/// <summary>The clipped PPO policy loss and its diagnostics (all scalars, on the device).</summary>
public sealed record PolicyLoss(Tensor Loss, Tensor ClipFraction, Tensor ApproxKl, Tensor MeanRatio);

/// <summary>The clipped value loss and the fraction of tokens where clipping won.</summary>
public sealed record ValueLoss(Tensor Loss, Tensor ClipFraction);

/// <summary>Per-pair DPO losses (B) and the implicit rewards β·(log π − log π_ref) of each side (B), detached.</summary>
public sealed record DpoLosses(Tensor Losses, Tensor ChosenRewards, Tensor RejectedRewards);

/// <summary>
/// The losses of RLHF and DPO as pure functions on tensors, following the formulas of InstructGPT / TRL.
/// Masks are float tensors of 1 (valid token) and 0 (padding) with the same shape as the values they mask.
/// </summary>
public static class RlhfMath
{
    /// <summary>Mean of <paramref name="x"/> over the positions where <paramref name="mask"/> is 1.</summary>
    public static Tensor MaskedMean(Tensor x, Tensor mask) => (x * mask).sum() / mask.sum().clamp_min(1);

    /// <summary>Unbiased variance over the masked positions (as TRL's masked_var).</summary>
    public static Tensor MaskedVariance(Tensor x, Tensor mask)
    {
        var centered = x - MaskedMean(x, mask);
        var count = mask.sum();
        return MaskedMean(centered.pow(2), mask) * count / (count - 1).clamp_min(1);
    }

    /// <summary>(x − mean) / std over the masked positions; with <paramref name="shiftMean"/> false the mean is added back.</summary>
    public static Tensor Whiten(Tensor x, Tensor mask, bool shiftMean = true)
    {
        var mean = MaskedMean(x, mask);
        var whitened = (x - mean) * (MaskedVariance(x, mask) + 1e-8).rsqrt();
        return shiftMean ? whitened : whitened + mean;
    }

    /// <summary>
    /// Pairwise reward-model loss (B) → (): −log σ(r_chosen − r_rejected − margin), averaged, plus
    /// <paramref name="centerCoefficient"/>·mean((r_chosen + r_rejected)²) which keeps rewards centred on 0.
    /// </summary>
    public static Tensor RewardLoss(Tensor chosen, Tensor rejected, Tensor? margin = null, double centerCoefficient = 0)
    {
        var difference = chosen - rejected;
        if (margin is not null) difference = difference - margin;
        var loss = -F.logsigmoid(difference).mean();
        return centerCoefficient == 0 ? loss : loss + centerCoefficient * (chosen + rejected).pow(2).mean();
    }

    /// <summary>
    /// Per-token KL estimate between policy and reference from the sampled tokens' log-probabilities (B, T):
    /// k1 = log π − log π_ref (unbiased, can be negative); k3 = (r − 1) − log r with r = π_ref / π (unbiased, ≥ 0).
    /// </summary>
    public static Tensor KlPenalty(Tensor logProbs, Tensor referenceLogProbs, string estimator = "k1")
    {
        var logRatio = referenceLogProbs - logProbs;                   // log r
        return estimator switch
        {
            "k1" => -logRatio,
            "k3" => logRatio.exp() - 1 - logRatio,
            _ => throw new ArgumentOutOfRangeException(nameof(estimator), estimator, "kl_estimator must be k1 or k3."),
        };
    }

    /// <summary>
    /// Generalised advantage estimation (Schulman et al. 2016) over (B, T) rewards and values; positions with
    /// mask 0 (after the response ended) count as zero reward and zero value, so the bootstrap after the last
    /// real token is 0. Returns advantages and returns = advantages + values, both (B, T).
    /// </summary>
    public static (Tensor Advantages, Tensor Returns) Gae(Tensor rewards, Tensor values, Tensor mask, double gamma, double lambda)
    {
        rewards = rewards * mask;
        values = values * mask;
        long length = rewards.shape[1];
        var lastAdvantage = zeros_like(rewards[.., 0]);                  // (B)
        var advantages = new Tensor[length];
        for (long t = length - 1; t >= 0; t--)
        {
            var nextValue = t + 1 < length ? values[.., t + 1] : zeros_like(lastAdvantage);
            var delta = rewards[.., t] + gamma * nextValue - values[.., t];
            lastAdvantage = delta + gamma * lambda * lastAdvantage;
            advantages[t] = lastAdvantage;
        }
        var stacked = stack(advantages, 1);                               // (B, T)
        return (stacked, stacked + values);
    }

    /// <summary>
    /// PPO's clipped surrogate (B, T) → (): mean over valid tokens of max(−A·ρ, −A·clip(ρ, 1 − ε, 1 + ε)),
    /// ρ = exp(log π_new − log π_old).
    /// </summary>
    public static PolicyLoss ClippedPolicyLoss(Tensor newLogProbs, Tensor oldLogProbs, Tensor advantages, Tensor mask, double clipRange)
    {
        var logRatio = newLogProbs - oldLogProbs;
        var ratio = logRatio.exp();
        var unclipped = -advantages * ratio;
        var clipped = -advantages * ratio.clamp(1 - clipRange, 1 + clipRange);
        var loss = MaskedMean(maximum(unclipped, clipped), mask);
        using var _ = no_grad();
        return new PolicyLoss(loss, MaskedMean(clipped.gt(unclipped).to(ScalarType.Float32), mask),
            0.5 * MaskedMean(logRatio.pow(2), mask), MaskedMean(ratio, mask));
    }

    /// <summary>
    /// PPO's clipped value loss (B, T) → (): ½ · mean over valid tokens of max((v − R)², (v_clip − R)²) with
    /// v_clip = v_old + clip(v − v_old, −ε_v, ε_v).
    /// </summary>
    public static ValueLoss ClippedValueLoss(Tensor values, Tensor oldValues, Tensor returns, Tensor mask, double clipRange)
    {
        var clippedValues = oldValues + (values - oldValues).clamp(-clipRange, clipRange);
        var unclipped = (values - returns).pow(2);
        var clipped = (clippedValues - returns).pow(2);
        var loss = 0.5 * MaskedMean(maximum(unclipped, clipped), mask);
        using var _ = no_grad();
        return new ValueLoss(loss, MaskedMean(clipped.gt(unclipped).to(ScalarType.Float32), mask));
    }

    /// <summary>
    /// DPO (Rafailov et al. 2023) from summed response log-probabilities (B) of policy and reference.
    /// Δ = (log π(y_w) − log π(y_l)) − (log π_ref(y_w) − log π_ref(y_l)).
    /// sigmoid: −(1 − s)·log σ(βΔ) − s·log σ(−βΔ) (s = label smoothing, conservative DPO); ipo: (Δ − 1/(2β))².
    /// </summary>
    public static DpoLosses DpoLoss(Tensor policyChosen, Tensor policyRejected, Tensor referenceChosen, Tensor referenceRejected,
        double beta, double labelSmoothing = 0, string lossType = "sigmoid")
    {
        var delta = (policyChosen - policyRejected) - (referenceChosen - referenceRejected);
        var losses = lossType switch
        {
            "sigmoid" => -F.logsigmoid(beta * delta) * (1 - labelSmoothing) - F.logsigmoid(-beta * delta) * labelSmoothing,
            "ipo" => (delta - 1 / (2 * beta)).pow(2),
            _ => throw new ArgumentOutOfRangeException(nameof(lossType), lossType, "loss_type must be sigmoid or ipo."),
        };
        using var _ = no_grad();
        return new DpoLosses(losses, beta * (policyChosen - referenceChosen).detach(), beta * (policyRejected - referenceRejected).detach());
    }

    /// <summary>
    /// Log-probability of each next token: logits (B, T, V) at position t score token ids[t + 1].
    /// Returns (B, T − 1); divide the logits by the sampling temperature first when scoring sampled tokens.
    /// </summary>
    public static Tensor TokenLogProbs(Tensor logits, Tensor ids)
    {
        var logProbs = logits[.., TensorIndex.Slice(null, -1)].to(ScalarType.Float32).log_softmax(-1);   // (B, T − 1, V)
        return logProbs.gather(-1, ids[.., 1..].unsqueeze(-1)).squeeze(-1);      // (B, T − 1)
    }
}
