using TorchSharp;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Models;

/// <summary>
/// Gradient checkpointing of one transformer block: forward keeps only the block's input (B, T, C), not the activations
/// inside it; backward runs the block again with gradients on and pushes the incoming gradient through it, so the
/// block's parameters accumulate exactly the gradients of an ordinary backward (the same ops on the same input), and
/// the input's gradient goes on to the block below. Costs one more forward per block; saves its activations.
/// </summary>
/// <remarks>
/// TorchSharp has no torch.utils.checkpoint, so this is PyTorch's reentrant variant as a custom autograd function.
/// Dropout (LoRA's) must draw the same masks in the rerun: the CPU generator's state is saved before the forward and
/// set again around the rerun, then put back, so the run's random stream is the same with or without checkpointing.
/// TorchSharp 0.107 does not expose the CUDA generator, so on CUDA a block with active dropout cannot be replayed;
/// <see cref="Configure"/> refuses that combination.
/// </remarks>
public sealed class CheckpointedBlock : autograd.SingleTensorFunction<CheckpointedBlock>
{
    public override string Name => nameof(CheckpointedBlock);

    /// <summary>What backward needs to rerun the block: the block with its other inputs bound, and the RNG state at the forward.</summary>
    private sealed record Replay(Func<Tensor, Tensor> Block, Tensor? RngState);

    /// <summary>
    /// Turns checkpointing on or off for every causal LM inside <paramref name="trained"/>. Refuses what it cannot make
    /// exact: dropout (LoRA's, <paramref name="dropout"/>) off the CPU, whose generator TorchSharp cannot save.
    /// </summary>
    public static void Configure(nn.Module trained, bool enabled, double dropout)
    {
        var device = trained.parameters().First().device;
        if (enabled && dropout > 0 && device.type != DeviceType.CPU)
            throw new NotSupportedException($"gradient_checkpointing with lora.dropout > 0 runs only on the CPU (the {device.type} generator cannot be replayed); set lora.dropout to 0 or turn gradient_checkpointing off.");
        foreach (var model in trained.modules().Prepend(trained).OfType<CausalLanguageModel>()) model.GradientCheckpointing = enabled;
    }

    /// <summary>block(x), checkpointed when gradients are being recorded; plain otherwise (evaluation, generation).</summary>
    public static Tensor Run(Func<Tensor, Tensor> block, Tensor x)
    {
        if (!is_grad_enabled()) return block(x);
        // With a frozen base (LoRA) the first block's input needs no gradient, and autograd would not record this function
        // at all: the adapters inside would get none. An input that requires grad keeps it recorded (HF: enable_input_require_grads).
        if (!x.requires_grad) x = x.detach().requires_grad_(true);
        return apply(x, new Replay(block, x.device.type == DeviceType.CPU ? get_rng_state() : null));
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (x, replay) = ((Tensor)vars[0], (Replay)vars[1]);
        ctx.save_for_backward([x]);
        ctx.save_data(nameof(Replay), replay);
        using var scope = NewDisposeScope(); // runs without grad (apply's doing): the block's activations are freed here
        return replay.Block(x).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var x = ctx.get_saved_variables()[0];
        var replay = (Replay)ctx.get_data(nameof(Replay));
        using var scope = NewDisposeScope();
        var input = x.detach().requires_grad_(true);
        var current = replay.RngState is null ? null : get_rng_state();
        try
        {
            if (replay.RngState is not null) set_rng_state(replay.RngState);
            using (enable_grad())
                replay.Block(input).backward([gradOutput]); // reentrant backward: the block's parameters accumulate their gradients
        }
        finally
        {
            if (current is not null) set_rng_state(current);
        }
        return [input.grad!.MoveToOuterDisposeScope(), null!]; // d/dx, and nothing for the non-tensor Replay
    }
}
