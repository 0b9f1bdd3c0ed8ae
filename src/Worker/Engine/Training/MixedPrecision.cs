using TorchSharp;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Training;

/// <summary>
/// Puts a model in its run's <see cref="TrainingPrecision"/> (TorchSharp 0.107 has no autocast: the weights themselves are
/// cast, and activations follow them). Call it before adapters are attached and the optimizer is built.
/// </summary>
public static class MixedPrecision
{
    /// <summary>
    /// bf16: casts the model's weights to bfloat16 and, for a full fine-tune, returns its float32 weights by parameter name as
    /// the optimizer's master weights: the loaded float32 values themselves (no copy when they are float32), not their bf16
    /// rounding. fp32, or a LoRA run (whose frozen base needs no master): null.
    /// </summary>
    public static Dictionary<string, Tensor>? Prepare(nn.Module model, TrainingPrecision precision, bool fullFineTune)
    {
        if (precision == TrainingPrecision.Float32) return null;
        var masters = fullFineTune
            ? model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().to(ScalarType.Float32).DetachFromDisposeScope())
            : null;
        model.to(precision.WeightType());
        return masters;
    }

    /// <summary>
    /// The RLHF trainers' trained module (policy, reward model, policy and value model), given with its adapters attached.
    /// Full fine-tune: <see cref="Prepare"/> (all of it bf16, float32 masters). LoRA: the caller cast the base with
    /// <see cref="Prepare"/> before attaching the float32 adapters; the trainable weights left in bf16 (a reward or value
    /// model's scalar head, fully trained beside the adapters) get float32 masters, widened exactly from their bf16 values.
    /// </summary>
    public static Dictionary<string, Tensor>? PrepareTrained(nn.Module trained, TrainingPrecision precision, bool fullFineTune)
    {
        if (precision == TrainingPrecision.Float32) return null;
        if (fullFineTune) return Prepare(trained, precision, fullFineTune: true);
        if (trained.named_parameters().FirstOrDefault(p => !p.parameter.requires_grad && p.parameter.dtype == ScalarType.Float32) is { name: { } name })
            throw new InvalidOperationException($"A bf16 LoRA run's frozen base is cast before its adapters are attached ({name} is float32).");
        return trained.named_parameters().Where(p => p.parameter.requires_grad && p.parameter.dtype != ScalarType.Float32)
            .ToDictionary(p => p.name, p => p.parameter.detach().to(ScalarType.Float32).DetachFromDisposeScope());
    }
}
