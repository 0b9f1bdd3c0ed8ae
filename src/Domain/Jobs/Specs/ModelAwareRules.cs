using System.Text.Json;
using TuningService.Domain.Models;

namespace TuningService.Domain.Jobs.Specs;

public static partial class JobSpecValidation
{
    /// <summary>
    /// Rules on the resolved spec that need the base model: max_seq_length within the model's context (null = unknown:
    /// the worker checks it once the model is loaded, with <see cref="MaxSeqLengthError"/>), and a PPO response that
    /// leaves the prompt room within max_seq_length. <paramref name="path"/> is where the request put the hyperparameters
    /// (<c>hyperparameters</c> for OpenAI's deprecated top level); default <c>method.{type}.hyperparameters</c>.
    /// </summary>
    public static IReadOnlyList<SpecError> ValidateForModel(JobSpec resolved, int? contextLength, string? path = null)
    {
        var errors = new List<SpecError>();
        var type = resolved.Method?.Type ?? throw new ArgumentException("The spec is not resolved.", nameof(resolved));
        var h = resolved.Method.Selected ?? throw new ArgumentException("The spec is not resolved.", nameof(resolved));
        path ??= $"method.{type}.hyperparameters";
        var maxSeqLength = h.MaxSeqLength ?? throw new ArgumentException("The spec is not resolved.", nameof(resolved));
        if (contextLength is { } context && MaxSeqLengthError(maxSeqLength, context, resolved.Model) is { } message)
            errors.Add(new SpecError($"{path}.max_seq_length", "invalid_value", message));
        if (h is PpoHyperparameters { ResponseLength: { } response } && response >= maxSeqLength)
            errors.Add(new SpecError($"{path}.response_length", "invalid_value",
                $"response_length ({response}) leaves no room for the prompt: prompt and response share max_seq_length ({maxSeqLength} tokens" +
                (contextLength is { } c ? $", at most the model's context of {c}" : "") + "); lower response_length or raise max_seq_length."));
        return errors;
    }

    /// <summary>Why max_seq_length does not fit the model's context (its position table), or null when it does.</summary>
    public static string? MaxSeqLengthError(int maxSeqLength, int contextLength, string? model) => maxSeqLength <= contextLength ? null
        : $"max_seq_length ({maxSeqLength}) exceeds the context of model '{model}' ({contextLength} tokens): give at most {contextLength}, or leave it out for the default.";
}

/// <summary>The context length (position-table size) of a base model, as the worker's engine will build it.</summary>
public static class ModelContext
{
    /// <summary>A preset's context; a checkpoint's or fine-tuned model's from the <c>config.json</c> in its directory; null when unknown.</summary>
    public static int? Of(ModelEntry model) =>
        model.Kind == BaseModelKinds.Preset && ModelCatalog.FindPreset(model.Id) is { } preset ? preset.ContextLength
        : model.Directory is { } directory ? FromHfConfig(directory) : null;

    /// <summary>
    /// Reads a Hugging Face <c>config.json</c>: <c>n_positions</c> (gpt2; transformers' default 1024) or
    /// <c>max_position_embeddings</c> (the Llama family; default 2048), exactly as the engine's HfConfig builds the
    /// model. Null when the file is missing or unreadable (the worker then checks the rule once the model is loaded).
    /// </summary>
    public static int? FromHfConfig(string directory)
    {
        var path = Path.Combine(directory, "config.json");
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            var type = root.TryGetProperty("model_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type is null || !CheckpointSupport.ModelTypes.Contains(type)) return null; // refused as model_not_supported instead
            return type == "gpt2" ? Int(root, "n_positions") ?? 1024 : Int(root, "max_position_embeddings") ?? 2048;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static int? Int(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && i > 0 ? i : null;
}
