using TorchSharp;
using TuningService.Worker.Engine.Models;
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
    public static Dictionary<string, Tensor>? Prepare(CausalLanguageModel model, TrainingPrecision precision, bool fullFineTune)
    {
        if (precision == TrainingPrecision.Float32) return null;
        var masters = fullFineTune
            ? model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().to(ScalarType.Float32).DetachFromDisposeScope())
            : null;
        model.to(precision.WeightType());
        return masters;
    }
}
