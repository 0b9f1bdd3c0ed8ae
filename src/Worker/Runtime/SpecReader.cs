using System.Text.Json;
using TuningService.Domain.Jobs;

namespace TuningService.Worker.Runtime;

/// <summary>
/// Reads the resolved job spec the API stored (OpenAI's shape: <c>method.{type}.hyperparameters</c>, every field
/// already defaulted). Missing fields fall back to the engine's defaults so older rows keep working.
/// </summary>
public sealed class SpecReader(TrainingJob job)
{
    private readonly JsonElement _hyperparameters = FindHyperparameters(job);

    public JsonElement Hyperparameters => _hyperparameters;

    public double? Number(string name) =>
        _hyperparameters.ValueKind == JsonValueKind.Object && _hyperparameters.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble() : null;

    public int? Integer(string name) => Number(name) is double d ? (int)Math.Round(d) : null;

    public string? Text(string name) =>
        _hyperparameters.ValueKind == JsonValueKind.Object && _hyperparameters.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString() : null;

    public bool? Flag(string name) =>
        _hyperparameters.ValueKind == JsonValueKind.Object && _hyperparameters.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean() : null;

    public JsonElement? Object(string name) =>
        _hyperparameters.ValueKind == JsonValueKind.Object && _hyperparameters.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object
            ? v : null;

    private static JsonElement FindHyperparameters(TrainingJob job)
    {
        var root = job.Spec.RootElement;
        if (root.TryGetProperty("method", out var method) && method.TryGetProperty(job.MethodType, out var typed)
            && typed.ValueKind == JsonValueKind.Object && typed.TryGetProperty("hyperparameters", out var hp))
            return hp;
        return root.TryGetProperty("hyperparameters", out var legacy) ? legacy : default;
    }
}
