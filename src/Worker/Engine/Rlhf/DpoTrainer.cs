using TorchSharp;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Rlhf;

/// <summary>DPO's own knobs, all from the resolved job spec (defaults and rules: the Domain's HyperparameterRanges and JobSpecValidator).</summary>
public sealed record DpoSettings
{
    /// <summary>Strength of the implicit KL constraint to the reference (β).</summary>
    public required double Beta { get; init; }
    /// <summary>Assumed probability that a label is flipped (conservative DPO), in [0, 0.5).</summary>
    public required double LabelSmoothing { get; init; }
    /// <summary>sigmoid (DPO) or ipo (Azar et al. 2023).</summary>
    public required string LossType { get; init; }
}

/// <summary>
/// Direct preference optimisation (Rafailov et al. 2023): the policy is trained so that its log-probability
/// ratio to the frozen reference favours the chosen response. The reference's summed response log-probabilities
/// never change, so they are computed once up front (from the initial policy: no second copy of the model is held).
/// </summary>
public sealed class DpoTrainer : PairwiseTrainer
{
    private readonly CausalLanguageModel policy;
    private readonly DpoSettings settings;
    private readonly float[] referenceTrain;        // (2N): chosen of pair i at 2i, rejected at 2i + 1
    private readonly float[] referenceValidation;

    /// <summary>
    /// <paramref name="reference"/> is the frozen reference; pass the policy itself before any training step
    /// (also when resuming: <see cref="IStepwiseTrainer.LoadState"/> loads the trained weights afterwards).
    /// </summary>
    public DpoTrainer(CausalLanguageModel policy, CausalLanguageModel reference, List<EncodedPair> train, List<EncodedPair> validation,
        TrainingHyperparameters hyperparameters, DpoSettings settings, int padId)
        : base("dpo", policy, train, validation, hyperparameters, padId)
    {
        this.policy = policy;
        this.settings = settings;
        // A separate reference is only read: bf16 like the policy (the policy itself was cast by the base constructor).
        if (hyperparameters.Precision == TrainingPrecision.BFloat16 && !ReferenceEquals(reference, policy)) reference.to(ScalarType.BFloat16);
        referenceTrain = ReferenceLogProbs(reference, train, hyperparameters.BatchSize, padId);
        referenceValidation = ReferenceLogProbs(reference, validation, hyperparameters.BatchSize, padId);
    }

    protected override object Configuration => new { Hyperparameters, Dpo = settings };

    /// <summary>Summed log-probability of each row's response tokens (2B), from a (2B, T) pair batch.</summary>
    public static Tensor ResponseLogProbs(CausalLanguageModel model, PairBatch batch)
        => (RlhfMath.TokenLogProbs(model.Forward(batch.InputIds), batch.InputIds) * batch.ResponseMask).sum(1);

    protected override (Tensor Loss, Dictionary<string, Tensor> Metrics) PairLosses(PairBatch batch, IReadOnlyList<int> pairIndices, bool isValidation)
    {
        var logProbs = ResponseLogProbs(policy, batch);                                    // (2B)
        var table = isValidation ? referenceValidation : referenceTrain;
        var chosenRef = tensor(pairIndices.Select(i => table[2 * i]).ToArray()).to(Device);
        var rejectedRef = tensor(pairIndices.Select(i => table[2 * i + 1]).ToArray()).to(Device);
        var chosen = logProbs[..batch.Pairs];
        var rejected = logProbs[batch.Pairs..];
        var dpo = RlhfMath.DpoLoss(chosen, rejected, chosenRef, rejectedRef, settings.Beta, settings.LabelSmoothing, settings.LossType);
        return (dpo.Losses.mean(), new Dictionary<string, Tensor>
        {
            ["rewards/chosen"] = dpo.ChosenRewards,
            ["rewards/rejected"] = dpo.RejectedRewards,
            ["rewards/accuracies"] = dpo.ChosenRewards.gt(dpo.RejectedRewards),
            ["rewards/margins"] = dpo.ChosenRewards - dpo.RejectedRewards,
            ["logps/chosen"] = chosen,
            ["logps/rejected"] = rejected,
        });
    }

    private static float[] ReferenceLogProbs(CausalLanguageModel reference, List<EncodedPair> pairs, int batchSize, int padId)
    {
        var result = new float[2 * pairs.Count];
        if (pairs.Count == 0) return result;
        bool wasTraining = reference.training;
        reference.eval();
        using var _ = no_grad();
        var device = reference.parameters().First().device;
        int done = 0;
        foreach (var chunk in pairs.Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            using var batch = PairBatch.Collate(chunk, padId, device);
            var logProbs = ResponseLogProbs(reference, batch).cpu().data<float>().ToArray();   // (2B): chosen then rejected
            for (int i = 0; i < chunk.Length; i++)
            {
                result[2 * (done + i)] = logProbs[i];
                result[2 * (done + i) + 1] = logProbs[chunk.Length + i];
            }
            done += chunk.Length;
        }
        reference.train(wasTraining);
        return result;
    }
}
