using TorchSharp;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests;

public sealed class TorchSharpLoadsTests
{
    [Fact]
    public void ForwardAndBackward_RunOnCpu_AndGiveTheAnalyticGradient()
    {
        using var scope = NewDisposeScope();
        // y = sum((x·w)^2) with w fixed: dy/dx = 2·(x·w)·wᵀ
        var x = tensor(new float[] { 1, 2, 3 }, 1, 3).requires_grad_(true);
        var w = tensor(new float[] { 0.5f, -1, 2 }, 3, 1);
        var y = x.matmul(w).pow(2).sum();
        y.backward();
        var xw = 1 * 0.5f + 2 * -1f + 3 * 2f; // 4.5
        Assert.Equal(xw * xw, y.item<float>(), 4);
        Assert.Equal(new[] { 2 * xw * 0.5f, 2 * xw * -1f, 2 * xw * 2f }, x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void FusedAttention_MatchesNaiveCausalAttention()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var q = randn(1, 2, 5, 4);
        var k = randn(1, 2, 5, 4);
        var v = randn(1, 2, 5, 4);
        var fused = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);
        var scores = q.matmul(k.transpose(-2, -1)) / MathF.Sqrt(4);
        var mask = ones(5, 5, dtype: ScalarType.Bool).triu(1);
        var naive = scores.masked_fill(mask, float.NegativeInfinity).softmax(-1).matmul(v);
        Assert.True(fused.allclose(naive, rtol: 1e-4, atol: 1e-5));
    }
}
