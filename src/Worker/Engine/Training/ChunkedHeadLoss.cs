using TuningService.Worker.Engine.Models;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Training;

/// <summary>
/// The output projection and cross-entropy of the labelled rows, forward and backward by hand, in row chunks so that
/// (N, V) logits never exist at once. Per chunk, one reused (chunk, V) buffer holds the logits, then in place the
/// softmax, then the logits' gradient (softmax − one-hot) / step labels; two GEMMs push it to the rows' gradient and
/// add it to the head weight's gradient. Autograd would instead allocate log-softmax, a zero-filled NLL gradient, the
/// log-softmax gradient and a (V, C) weight gradient per chunk (then added to the accumulated one), plus an argmax pass:
/// on the GPT-2 bench shape (80% of its parameters in the 50,257-row tied head) that was most of the step beyond the GEMMs.
/// The loss per row is max + log Σ exp(logit − max) − logit[label], the formula of log_softmax + nll_loss.
/// Used when the logits are exactly hidden · Wᵀ in float32 (<see cref="CausalLanguageModel.OutputHead"/>, no adapter on it).
/// </summary>
internal sealed class ChunkedHeadLoss(long chunkElements = ChunkedHeadLoss.ChunkElements) : IDisposable
{
    /// <summary>Logits elements per chunk (64 MB in float32).</summary>
    public const long ChunkElements = 1 << 24;
    private Tensor? buffer;                      // (chunk, V), kept across steps: no page faults for a fresh 64 MB each chunk

    /// <summary>The head weight (V, C) when the model's logits are that plain projection in float32, else null (use autograd).</summary>
    public static Tensor? PlainHeadWeight(CausalLanguageModel model)
        => model.OutputHead is ({ } weight, var layer) && weight.dtype == ScalarType.Float32
           && (layer is null || (!layer.HasLora && layer.ServedAdapter is null)) ? weight : null;

    /// <summary>Rows per chunk of <paramref name="elements"/> logits for a vocabulary of <paramref name="vocab"/> (333 for GPT-2's, 64 for 262,144).</summary>
    public static int ChunkRows(long vocab, long elements = ChunkElements) => (int)Math.Max(1, elements / vocab);

    /// <summary>
    /// Forward and backward over the rows (N, C) (detached: their gradient comes back in the returned (N, C) tensor, for
    /// the trunk's backward) with labels (N). Adds the summed loss and the correct predictions to the two accumulators,
    /// and <paramref name="lossScale"/> × the weight's gradient to weight.grad (when the weight requires one).
    /// </summary>
    public Tensor ForwardBackward(Tensor weight, Tensor rows, Tensor labels, double lossScale, Tensor lossSum, Tensor correct)
    {
        using var _ = no_grad();
        long n = rows.shape[0], vocab = weight.shape[0];
        int chunk = ChunkRows(vocab, chunkElements);
        var rowsGrad = empty_like(rows);
        if (buffer is null || buffer.shape[1] != vocab || buffer.shape[0] < Math.Min(chunk, n) || buffer.device != rows.device)
        {
            buffer?.Dispose();
            buffer = empty(Math.Min(chunk, n), vocab, ScalarType.Float32, rows.device).DetachFromDisposeScope();
        }
        for (long start = 0; start < n; start += chunk)
        {
            using var scope = NewDisposeScope();
            long length = Math.Min(chunk, n - start);
            var x = rows.narrow(0, start, length);                                  // (n, C)
            var y = labels.narrow(0, start, length).unsqueeze(1);                   // (n, 1)
            var logits = buffer.narrow(0, 0, length);                               // (n, V), contiguous
            logits.addmm_(x, weight.t(), beta: 0);                                  // x Wᵀ
            var (max, argmax) = logits.max(1, keepdim: true);                       // (n, 1)
            correct.add_(argmax.eq(y).sum());
            var target = logits.gather(1, y);                                       // (n, 1) logit of the label
            var sumExp = logits.sub_(max).exp_().sum(1, keepdim: true);             // logits now exp(logit − max)
            lossSum.add_((sumExp.log() + max - target).sum());
            logits.mul_(sumExp.reciprocal_().mul_(lossScale));                      // softmax · scale
            logits.scatter_add_(1, y, full([length, 1], -lossScale, ScalarType.Float32, rows.device)); // − one-hot · scale
            rowsGrad.narrow(0, start, length).addmm_(logits, weight, beta: 0);      // dL/dx = dL/dlogits · W
            if (!weight.requires_grad) continue;
            if (weight.grad is { } grad) grad.addmm_(logits.t(), x);                // dL/dW += dL/dlogitsᵀ · x
            else
                using (enable_grad()) weight.backward([logits.t().mm(x)]);          // the first gradient creates weight.grad
        }
        return rowsGrad;
    }

    public void Dispose() => buffer?.Dispose();
}
