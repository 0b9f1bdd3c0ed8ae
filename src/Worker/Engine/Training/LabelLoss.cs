using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TuningService.Worker.Engine.Training;

/// <summary>
/// The model's loss over encoded examples, summed over their label tokens, in shortest-first batches with no gradients:
/// the one measurement behind validation loss and the reference text's loss (forgetting). Call it in eval mode.
/// </summary>
internal static class LabelLoss
{
    /// <summary>Summed cross-entropy (nats), correctly predicted labels (when <paramref name="countCorrect"/>), and label count.</summary>
    public static (double LossSum, long Correct, long Labels) Measure(CausalLanguageModel model, IEnumerable<EncodedExample> examples,
        int padId, int batchSize, Device device, bool countCorrect)
    {
        using var _ = no_grad();
        double lossSum = 0;
        long correct = 0, labels = 0;
        foreach (var chunk in examples.OrderBy(e => e.Length).Chunk(Math.Max(1, batchSize)))
        {
            using var scope = NewDisposeScope();
            using var batch = MicroBatch.Collate(chunk, padId, device);
            if (batch.LabelCount == 0) continue;
            var hidden = model.HiddenStates(batch.InputIds);                                       // (B, T, C)
            var logits = model.Logits(hidden.reshape(-1, hidden.shape[2]).index_select(0, batch.LabelPositions)).to(ScalarType.Float32); // (N, V)
            lossSum += F.cross_entropy(logits, batch.LabelIds, reduction: nn.Reduction.Sum).item<float>();        // CPU-GPU sync point
            if (countCorrect) correct += logits.argmax(-1).eq(batch.LabelIds).sum().item<long>();
            labels += batch.LabelCount;
        }
        return (lossSum, correct, labels);
    }
}
