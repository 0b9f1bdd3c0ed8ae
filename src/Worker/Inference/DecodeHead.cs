using TuningService.Worker.Engine.Models;
using static TorchSharp.torch;

namespace TuningService.Worker.Inference;

/// <summary>
/// The output projection of a resident model, the largest part of a decode step at the sizes served here (GPT-2's
/// (50257, 768) head is most of the bytes a step reads). The (V, C) head weight is kept once more as a contiguous
/// (C, V) matrix, so that logits are a plain (B, C) × (C, V) matmul instead of linear's product with the transposed
/// (V, C) weight: on this CPU as fast or faster (up to 1.8× for 8 rows under load) in every profile run. It costs
/// V × C more resident bytes, counted in <see cref="Bytes"/>. A served adapter on an untied lm_head, and a model whose
/// logits are more than a projection (no <see cref="CausalLanguageModel.OutputHead"/>), use the model's own head.
/// </summary>
internal sealed class DecodeHead : IDisposable
{
    private readonly CausalLanguageModel model;
    private readonly AdaptableLinear? layer;
    private readonly Tensor? transposed;  // (C, V) contiguous

    public DecodeHead(CausalLanguageModel model)
    {
        this.model = model;
        using var _ = no_grad();
        if (model.OutputHead is not var (weight, headLayer)) return;
        layer = headLayer;
        transposed = weight.detach().t().contiguous().DetachFromDisposeScope();
    }

    public long Bytes => transposed is null ? 0 : transposed.numel() * transposed.ElementSize;

    /// <summary>(B, C) final hidden states to (B, V) float32 logits.</summary>
    public Tensor Logits(Tensor hidden) =>
        (transposed is null || layer?.ServedAdapter is not null ? model.Logits(hidden) : hidden.mm(transposed)).to(ScalarType.Float32);

    public void Dispose() => transposed?.Dispose();
}
