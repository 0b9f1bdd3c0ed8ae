using System.Text.Json;

namespace TuningService.Domain.Models;

/// <summary>
/// What the engine can train, read off a Hugging Face <c>config.json</c>: the one list the API checks at job creation
/// (a 400 naming what is unsupported, not a failed job later) and the worker's loader enforces.
/// </summary>
public static class CheckpointSupport
{
    /// <summary>Every supported <c>model_type</c>: GPT-2 and the Llama family.</summary>
    public static readonly IReadOnlyList<string> ModelTypes = ["gpt2", "llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2"];

    /// <summary>Supported MLP gate activations of the Llama family (<c>hidden_act</c> / <c>hidden_activation</c>).</summary>
    public static readonly IReadOnlyList<string> Activations = ["silu", "gelu_pytorch_tanh", "gelu_new"];

    /// <summary>Supported <c>rope_scaling</c> types (<c>rope_type</c>, or <c>type</c> in older configs).</summary>
    public static readonly IReadOnlyList<string> RopeScalingTypes = ["default", "linear", "dynamic", "llama3", "yarn"];

    /// <summary>Why the engine cannot train the checkpoint this config describes, or null when it can.</summary>
    public static string? Unsupported(JsonElement config)
    {
        if (config.ValueKind != JsonValueKind.Object) return "config.json is not a JSON object.";
        var type = String(config, "model_type");
        if (type is null) return "config.json has no model_type.";
        if (!ModelTypes.Contains(type))
            return $"model_type '{type}' is not supported; supported: {string.Join(", ", ModelTypes)}.";
        if (config.TryGetProperty("rope_scaling", out var scaling) && scaling.ValueKind == JsonValueKind.Object
            && (String(scaling, "rope_type") ?? String(scaling, "type")) is { } rope && !RopeScalingTypes.Contains(rope))
            return $"rope_scaling type '{rope}' is not supported; supported: {string.Join(", ", RopeScalingTypes)}.";
        if (type != "gpt2" && (String(config, "hidden_activation") ?? String(config, "hidden_act")) is { } act && !Activations.Contains(act))
            return $"hidden_act '{act}' is not supported; supported: {string.Join(", ", Activations)}.";
        if (config.TryGetProperty("partial_rotary_factor", out var partial) && partial.ValueKind == JsonValueKind.Number && partial.GetDouble() != 1.0)
            return $"partial_rotary_factor {partial.GetDouble()} (rotary embedding on part of each head) is not supported.";
        if (type is "qwen2" or "qwen3" && config.TryGetProperty("use_sliding_window", out var sliding) && sliding.ValueKind == JsonValueKind.True)
            return $"use_sliding_window true ({type}'s per-layer sliding window) is not supported.";
        return null;
    }

    /// <summary>Reads <c>config.json</c> in <paramref name="directory"/>: why it cannot be trained, or null (also when there is no file to judge).</summary>
    public static string? UnsupportedIn(string directory)
    {
        var path = Path.Combine(directory, "config.json");
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return Unsupported(doc.RootElement);
        }
        catch (JsonException e)
        {
            return $"config.json is not valid JSON ({e.Message}).";
        }
        catch (IOException) { return null; }
    }

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
