namespace TuningService.Worker.Engine.Rlhf;

/// <summary>The reward model's own knobs, from the resolved job spec (defaults and rules: the Domain's HyperparameterRanges and JobSpecValidator).</summary>
public sealed record RewardModelSettings
{
    /// <summary>Margin m in −log σ(r_chosen − r_rejected − m) for pairs without their own; 0 = none.</summary>
    public required double Margin { get; init; }
    /// <summary>Weight of the (r_chosen + r_rejected)² penalty that keeps rewards centred on 0.</summary>
    public required double CenterRewardsCoefficient { get; init; }
}
