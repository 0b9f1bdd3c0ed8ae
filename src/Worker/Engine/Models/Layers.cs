using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TuningService.Worker.Engine.Models;

/// <summary>
/// Root-mean-square norm (Llama): x / rms(x) * weight, computed in float32. Gemma stores the weight as an offset
/// from 1 (<paramref name="unitOffset"/>): x / rms(x) * (1 + weight), scaled in float32 before the cast back.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double eps;
    private readonly bool unitOffset;

    public RmsNorm(long size, double eps, bool unitOffset = false) : base(nameof(RmsNorm))
    {
        weight = new Parameter(unitOffset ? zeros(size) : ones(size));
        this.eps = eps;
        this.unitOffset = unitOffset;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var x32 = x.to(ScalarType.Float32);
        var normed = x32 * (x32.pow(2).mean([-1], keepdim: true) + eps).rsqrt(); // (..., C)
        return unitOffset ? (normed * (weight.to(ScalarType.Float32) + 1)).to(x.dtype) : weight * normed.to(x.dtype);
    }
}

/// <summary>
/// y = x Wᵀ + b, optionally plus a LoRA update (alpha / r) · B A x with A (r, in) and B (out, r).
/// The base weight is stored (out, in) like nn.Linear; GPT-2's Conv1D layout is transposed at the checkpoint boundary.
/// </summary>
public sealed class AdaptableLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private Parameter? loraA;
    private Parameter? loraB;
    private double loraScale;
    private double loraDropout;

    public AdaptableLinear(long inFeatures, long outFeatures, bool hasBias) : base(nameof(AdaptableLinear))
    {
        weight = new Parameter(empty(outFeatures, inFeatures));
        if (hasBias) bias = new Parameter(zeros(outFeatures));
        RegisterComponents();
    }

    public Parameter Weight => weight;
    public Parameter? Bias => bias;
    public bool HasLora => loraA is not null;
    public long InFeatures => weight.shape[1];
    public long OutFeatures => weight.shape[0];

    public override Tensor forward(Tensor x)
    {
        if (loraA is null || loraB is null)
        {
            var plain = F.linear(x, weight, bias);
            return ServedAdapter is { } served ? plain + F.linear(F.linear(x, served.A), served.B) * served.Scale : plain;
        }
        // The update's temporaries, (..., out) each, are freed here rather than with the caller's step: autograd keeps
        // what backward needs (the adapter's input and the dropout mask), so a LoRA layer holds about what a plain one does.
        using var scope = NewDisposeScope();
        var y = F.linear(x, weight, bias);
        var dropped = loraDropout > 0 ? F.dropout(x, loraDropout, training) : x;
        if (x.dtype == loraA.dtype) return (y + F.linear(F.linear(dropped, loraA), loraB) * loraScale).MoveToOuterDisposeScope(); // (..., r) -> (..., out)
        // A bf16 base with float32 adapters (as PEFT does): the update is computed in float32, added in the base's precision.
        return (y + (F.linear(F.linear(dropped.to(loraA.dtype), loraA), loraB) * loraScale).to(y.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Adds a LoRA adapter like PEFT: A Kaiming-uniform from the global CPU generator, B zero, so the model is unchanged at
    /// first. The adapter is float32 whatever the base's precision (a bf16 base trains float32 adapters), on the base's device.
    /// </summary>
    public void AttachLora(int rank, double alpha, double dropout)
    {
        if (loraA is not null) throw new InvalidOperationException("A LoRA adapter is already attached.");
        var a = empty(rank, InFeatures, dtype: ScalarType.Float32);
        nn.init.kaiming_uniform_(a, Math.Sqrt(5));
        loraA = new Parameter(a.to(weight.device));
        loraB = new Parameter(zeros(OutFeatures, rank, dtype: ScalarType.Float32, device: weight.device));
        loraScale = alpha / rank;
        loraDropout = dropout;
        register_parameter("lora_A", loraA);
        register_parameter("lora_B", loraB);
    }

    /// <summary>The weight with the adapter folded in, W + scale · B A (out, in); the module is unchanged.</summary>
    public Tensor MergedWeight()
    {
        using var _ = no_grad();
        return loraA is null || loraB is null ? weight.detach().clone() : weight.detach() + loraB.matmul(loraA) * loraScale;
    }

    /// <summary>
    /// Serving only: a LoRA update (A (r, in), B (out, r), alpha / r) applied without being attached or registered,
    /// so that many adapters can take turns on one resident base model. Null serves the base alone.
    /// </summary>
    public (Tensor A, Tensor B, double Scale)? ServedAdapter { get; set; }

    internal Parameter? LoraA => loraA;
    internal Parameter? LoraB => loraB;
}
