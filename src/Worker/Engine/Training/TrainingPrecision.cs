using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Training;

/// <summary>
/// The number format a run trains in, resolved by the worker (the job's <c>precision</c>; auto = bf16 on CUDA, fp32 on CPU).
/// Recorded in every checkpoint's trainer_state.json with the rest of the configuration.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<TrainingPrecision>))]
public enum TrainingPrecision
{
    /// <summary>float32 weights, activations, gradients and optimizer state.</summary>
    [JsonStringEnumMemberName("fp32")] Float32,
    /// <summary>
    /// bfloat16 weights and activations (hence bf16 gradients of the weights); AdamW's moments in float32, and for a full
    /// fine-tune float32 master weights that the optimizer updates and rounds back into the bf16 weights. Logits are cast
    /// to float32 before the loss, which is summed and scaled in float32. With LoRA the frozen base stays bf16 and the
    /// adapters (and their gradients and moments) are float32. No loss scaling is needed: bf16 has float32's exponent range.
    /// </summary>
    [JsonStringEnumMemberName("bf16")] BFloat16,
}

public static class TrainingPrecisions
{
    /// <summary>The dtype of the model's weights and activations.</summary>
    public static ScalarType WeightType(this TrainingPrecision precision) =>
        precision == TrainingPrecision.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>The job-spec spelling (bf16, fp32).</summary>
    public static string SpecName(this TrainingPrecision precision) =>
        precision == TrainingPrecision.BFloat16 ? Domain.Jobs.Specs.Precisions.BFloat16 : Domain.Jobs.Specs.Precisions.Float32;
}
