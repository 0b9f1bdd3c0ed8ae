using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TuningService.Worker.Tests.Engine;

[Collection(EngineTestCollection.Name)]
public sealed class ChunkedHeadLossTests
{
    [Fact]
    public void HandWrittenChunks_EqualAutogradCrossEntropyOverTheWholeLogits()
    {
        manual_seed(3);
        const int rowsCount = 23, hidden = 8, vocab = 50;
        const double scale = 1.0 / 30;                       // 1 / the step's label tokens
        var rows = randn(rowsCount, hidden);
        var labels = randint(0, vocab, [rowsCount]);
        var weight = (randn(vocab, hidden) * 2).requires_grad_(true);

        // Reference: (N, V) logits, log_softmax + nll through autograd.
        var leaf = rows.clone().requires_grad_(true);
        var logits = leaf.mm(weight.t());
        var loss = F.cross_entropy(logits, labels, reduction: nn.Reduction.Sum);
        (loss * scale).backward();
        var (referenceRows, referenceWeight) = (leaf.grad!.clone(), weight.grad!.clone());
        long referenceCorrect = logits.argmax(-1).eq(labels).sum().item<long>();

        using var head = new ChunkedHeadLoss(chunkElements: 5 * vocab); // chunks of 5 rows: 5 chunks, the last of 3
        var lossSum = zeros(1);
        var correct = zeros(1, ScalarType.Int64);
        var rowsGrad = head.ForwardBackward(weight, rows, labels, scale, lossSum, correct); // adds to weight.grad

        Assert.Equal(loss.item<float>(), lossSum.item<float>(), 3);
        Assert.Equal(referenceCorrect, correct.item<long>());
        Assert.True(rowsGrad.allclose(referenceRows, rtol: 1e-4, atol: 1e-6), $"rows differ by {(rowsGrad - referenceRows).abs().max().item<float>()}");
        var added = weight.grad! - referenceWeight;          // the gradient already there is added to, not replaced
        Assert.True(added.allclose(referenceWeight, rtol: 1e-4, atol: 1e-6), $"weight gradient differs by {(added - referenceWeight).abs().max().item<float>()}");
    }

    [Fact]
    public void FirstChunk_CreatesTheWeightGradient()
    {
        manual_seed(4);
        var rows = randn(7, 4);
        var labels = randint(0, 11, [7]);
        var weight = randn(11, 4).requires_grad_(true);
        var leaf = rows.clone().requires_grad_(true);
        F.cross_entropy(leaf.mm(weight.t()), labels, reduction: nn.Reduction.Sum).backward();
        var reference = weight.grad!.clone();
        weight.grad!.Dispose();
        var fresh = randn(11, 4).requires_grad_(true);
        using (no_grad()) fresh.copy_(weight);

        using var head = new ChunkedHeadLoss(chunkElements: 3 * 11);
        head.ForwardBackward(fresh, rows, labels, 1.0, zeros(1), zeros(1, ScalarType.Int64));

        Assert.True(fresh.grad!.allclose(reference, rtol: 1e-4, atol: 1e-6));
    }
}
