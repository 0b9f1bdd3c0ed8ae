using TuningService.Worker.Engine.Rlhf;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine.Rlhf;

/// <summary>The RLHF and DPO formulas on fixed tensors against numbers worked out by hand or by plain loops.</summary>
public sealed class RlhfMathTests
{
    private const int Digits = 5;

    [Fact]
    public void RewardLoss_AndItsGradient_MatchHandComputedValues()
    {
        using var scope = NewDisposeScope();
        var chosen = tensor(new[] { 1.0f, 0.5f }).requires_grad_(true);
        var rejected = tensor(new[] { 0.0f, 1.5f }).requires_grad_(true);

        var loss = RlhfMath.RewardLoss(chosen, rejected, centerCoefficient: 0.01);
        loss.backward();

        // mean(−log σ(1), −log σ(−1)) = mean(0.3132617, 1.3132617); centring 0.01 · mean(1², 2²) = 0.025
        Assert.Equal(0.8382617, loss.item<float>(), Digits);
        // ∂/∂r_c = −(1 − σ(d))/B + 0.01 · 2(r_c + r_r)/B; ∂/∂r_r = (1 − σ(d))/B + 0.01 · 2(r_c + r_r)/B
        AssertClose([-0.1244707, -0.3455293], chosen.grad!);
        AssertClose([0.1444707, 0.3855293], rejected.grad!);
    }

    [Fact]
    public void RewardLoss_SubtractsThePerPairMargin()
    {
        using var scope = NewDisposeScope();
        var loss = RlhfMath.RewardLoss(tensor(new[] { 1.5f }), tensor(new[] { 0.0f }), tensor(new[] { 0.5f }));
        Assert.Equal(0.3132617, loss.item<float>(), Digits); // −log σ(1.5 − 0 − 0.5)
    }

    [Fact]
    public void KlPenalty_K1IsTheLogRatio_K3IsNonNegative()
    {
        using var scope = NewDisposeScope();
        var logProbs = tensor(new[] { -1.0f, -2.0f });
        var reference = tensor(new[] { -1.5f, -1.0f });
        AssertClose([0.5, -1.0], RlhfMath.KlPenalty(logProbs, reference, "k1"));
        AssertClose([Math.Exp(-0.5) - 1 + 0.5, Math.E - 2], RlhfMath.KlPenalty(logProbs, reference, "k3"));
    }

    [Fact]
    public void Gae_MatchesALoopReference_AndIgnoresPaddedPositions()
    {
        using var scope = NewDisposeScope();
        double gamma = 0.9, lambda = 0.8;
        var rewards = tensor(new[] { 0f, 0f, 1f, 5f, 0.2f, -0.1f, 0.3f, 0.4f }, 2, 4);
        var values = tensor(new[] { 0.5f, 0.4f, 0.3f, 9f, 0.1f, 0.2f, -0.3f, 0.6f }, 2, 4);
        var mask = tensor(new[] { 1f, 1f, 1f, 0f, 1f, 1f, 1f, 1f }, 2, 4);

        var (advantages, returns) = RlhfMath.Gae(rewards, values, mask, gamma, lambda);

        // Row 0 by hand: δ2 = 1 − 0.3 = 0.7; δ1 = 0.9·0.3 − 0.4 = −0.13; δ0 = 0.9·0.4 − 0.5 = −0.14; A = δ + 0.72·A_next
        AssertClose([0.12928, 0.374, 0.7, 0], advantages[0]);
        AssertClose([0.62928, 0.774, 1.0, 0], returns[0]);
        AssertClose(LoopGae([0.2, -0.1, 0.3, 0.4], [0.1, 0.2, -0.3, 0.6], gamma, lambda), advantages[1]);
    }

    [Fact]
    public void Whiten_UsesValidPositionsOnly_WithUnbiasedVariance()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1f, 2f, 3f, 100f });
        var mask = tensor(new[] { 1f, 1f, 1f, 0f });
        AssertClose([-1, 0, 1], RlhfMath.Whiten(x, mask)[..3], digits: 4);
        AssertClose([1, 2, 3], RlhfMath.Whiten(x, mask, shiftMean: false)[..3], digits: 4);
    }

    [Fact]
    public void ClippedPolicyLoss_TakesThePessimisticTerm_PerToken()
    {
        using var scope = NewDisposeScope();
        var newLogProbs = tensor(new[] { (float)Math.Log(1.5), (float)Math.Log(0.5), (float)Math.Log(1.1), 5f });
        var oldLogProbs = zeros(4);
        var advantages = tensor(new[] { 1f, 1f, -2f, 100f });
        var mask = tensor(new[] { 1f, 1f, 1f, 0f });

        var result = RlhfMath.ClippedPolicyLoss(newLogProbs, oldLogProbs, advantages, mask, clipRange: 0.2);

        // ρ = 1.5: max(−1.5, −1.2) = −1.2 (clipped); ρ = 0.5: max(−0.5, −0.8) = −0.5; ρ = 1.1, A = −2: 2.2 either way
        Assert.Equal((-1.2 - 0.5 + 2.2) / 3, result.Loss.item<float>(), Digits);
        Assert.Equal(1.0 / 3, result.ClipFraction.item<float>(), Digits);
        Assert.Equal((1.5 + 0.5 + 1.1) / 3, result.MeanRatio.item<float>(), Digits);
        var logs = new[] { Math.Log(1.5), Math.Log(0.5), Math.Log(1.1) };
        Assert.Equal(0.5 * logs.Average(l => l * l), result.ApproxKl.item<float>(), Digits);
    }

    [Fact]
    public void ClippedValueLoss_TakesTheLargerOfClippedAndUnclippedError()
    {
        using var scope = NewDisposeScope();
        var values = tensor(new[] { 1.0f, 0.0f, 7f });
        var oldValues = tensor(new[] { 0.5f, 0.5f, 0f });
        var returns = tensor(new[] { 2.0f, 0.0f, -7f });
        var mask = tensor(new[] { 1f, 1f, 0f });

        var result = RlhfMath.ClippedValueLoss(values, oldValues, returns, mask, clipRange: 0.2);

        // v_clip = 0.7: max(1, 1.69) = 1.69; v_clip = 0.3: max(0, 0.09) = 0.09; ½ · mean = 0.445
        Assert.Equal(0.445, result.Loss.item<float>(), Digits);
        Assert.Equal(1.0, result.ClipFraction.item<float>(), Digits);
    }

    [Fact]
    public void DpoLoss_Sigmoid_LabelSmoothing_AndIpo_MatchHandComputedValues()
    {
        using var scope = NewDisposeScope();
        var (pc, pr, rc, rr) = (tensor(new[] { -1f }), tensor(new[] { -3f }), tensor(new[] { -2f }), tensor(new[] { -2f }));

        var sigmoid = RlhfMath.DpoLoss(pc, pr, rc, rr, beta: 0.1);           // Δ = 2: −log σ(0.2)
        Assert.Equal(0.5981389, sigmoid.Losses.item<float>(), Digits);
        Assert.Equal(0.1, sigmoid.ChosenRewards.item<float>(), Digits);
        Assert.Equal(-0.1, sigmoid.RejectedRewards.item<float>(), Digits);

        var smoothed = RlhfMath.DpoLoss(pc, pr, rc, rr, beta: 0.1, labelSmoothing: 0.1);
        Assert.Equal(0.9 * 0.5981389 + 0.1 * 0.7981389, smoothed.Losses.item<float>(), Digits);

        var ipo = RlhfMath.DpoLoss(pc, pr, rc, rr, beta: 0.1, lossType: "ipo"); // (2 − 1/0.2)² = 9
        Assert.Equal(9.0, ipo.Losses.item<float>(), 4);
    }

    [Fact]
    public void TokenLogProbs_ScoreEachNextToken()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new[] { 2f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f }, 1, 3, 3);  // position 0 favours token 0 (by 2 nats)
        var ids = tensor(new long[] { 1, 0, 2 }, 1, 3);
        var logProbs = RlhfMath.TokenLogProbs(logits, ids);                          // scores ids[1] = 0 and ids[2] = 2
        AssertClose([2 - Math.Log(Math.Exp(2) + 2), -Math.Log(3)], logProbs[0]);
    }

    private static double[] LoopGae(double[] rewards, double[] values, double gamma, double lambda)
    {
        var advantages = new double[rewards.Length];
        double last = 0;
        for (int t = rewards.Length - 1; t >= 0; t--)
        {
            var next = t + 1 < rewards.Length ? values[t + 1] : 0;
            last = rewards[t] + gamma * next - values[t] + gamma * lambda * last;
            advantages[t] = last;
        }
        return advantages;
    }

    private static void AssertClose(double[] expected, Tensor actual, int digits = Digits)
    {
        var values = actual.to(ScalarType.Float32).data<float>().ToArray();
        Assert.Equal(expected.Length, values.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], values[i], digits);
    }
}
