using TuningService.Domain.Jobs;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Rlhf;

/// <summary>
/// RLHF stage 1 (InstructGPT §3.5): trains a backbone with a scalar head so that the chosen response of a pair
/// scores higher than the rejected one, loss −log σ(r_chosen − r_rejected − margin) (+ optional centring term).
/// </summary>
public sealed class RewardModelTrainer(RewardModel model, List<EncodedPair> train, List<EncodedPair> validation,
    TrainingHyperparameters hyperparameters, int padId, double centerRewardsCoefficient = 0)
    : PairwiseTrainer("reward_model", model, train, validation, hyperparameters, padId)
{
    protected override (Tensor Loss, Dictionary<string, Tensor> Metrics) PairLosses(PairBatch batch, IReadOnlyList<int> pairIndices, bool isValidation)
    {
        var rewards = model.Rewards(batch.InputIds, batch.LastIndex).to(ScalarType.Float32);  // (2B)
        var chosen = rewards[..batch.Pairs];                                                   // (B)
        var rejected = rewards[batch.Pairs..];                                                 // (B)
        var loss = RlhfMath.RewardLoss(chosen, rejected, batch.Margins, centerRewardsCoefficient);
        return (loss, new Dictionary<string, Tensor>
        {
            ["accuracy"] = chosen.gt(rejected),
            ["margin"] = chosen - rejected,
            ["reward"] = rewards,
        });
    }

    protected override Dictionary<string, Tensor> Summarize(IReadOnlyDictionary<string, Tensor> metrics)
    {
        var reward = metrics["reward"];
        return new Dictionary<string, Tensor>
        {
            [MetricNames.PairwiseAccuracy] = metrics["accuracy"].mean(),
            ["margin"] = metrics["margin"].mean(),
            ["reward_mean"] = reward.mean(),
            ["reward_min"] = reward.min(),
            ["reward_max"] = reward.max(),
        };
    }
}
