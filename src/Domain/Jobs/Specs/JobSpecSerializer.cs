using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace TuningService.Domain.Jobs.Specs;

/// <summary>A field the spec gets wrong: its full JSON path (<c>method.dpo.hyperparameters.beta</c>), a stable code and a message.</summary>
public sealed record SpecError(string Param, string Code, string Message);

/// <summary>
/// The one JSON shape of a job spec (snake_case, strict numbers, unknown fields refused inside <c>method</c>), used by the
/// API to read requests and store the resolved spec, and by the worker to read <c>TrainingJob.Spec</c> back.
/// </summary>
public static partial class JobSpecSerializer
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.Strict,
        MaxDepth = 32,
    };

    public static JsonDocument Serialize(JobSpec spec) => JsonSerializer.SerializeToDocument(spec, Options);

    public static string SerializeToString(JobSpec spec) => JsonSerializer.Serialize(spec, Options);

    /// <summary>Reads a stored spec (e.g. <c>TrainingJob.Spec</c>) back; throws when it is not a spec.</summary>
    public static JobSpec Deserialize(JsonDocument document) =>
        document.Deserialize<JobSpec>(Options) ?? throw new JsonException("The job spec is null.");

    public static JobSpec Deserialize(string json) =>
        JsonSerializer.Deserialize<JobSpec>(json, Options) ?? throw new JsonException("The job spec is null.");

    /// <summary>Reads a request body. On failure returns the error naming the offending field's path.</summary>
    public static JobSpec? TryParse(ReadOnlySpan<byte> utf8Json, out SpecError? error)
    {
        error = null;
        try
        {
            var spec = JsonSerializer.Deserialize<JobSpec>(utf8Json, Options);
            if (spec is null) error = new SpecError("", "invalid_json", "The request body must be a JSON object.");
            return spec;
        }
        catch (JsonException ex)
        {
            error = ToSpecError(ex);
            return null;
        }
    }

    private static SpecError ToSpecError(JsonException ex)
    {
        var path = ToParam(ex.Path);
        var message = ex.Message;
        var unmapped = UnmappedProperty().Match(message);
        if (unmapped.Success)
        {
            var name = unmapped.Groups[1].Value;
            var param = path.Length == 0 ? name : path == name || path.EndsWith("." + name, StringComparison.Ordinal) ? path : $"{path}.{name}";
            return new SpecError(param, "unknown_parameter", $"Unknown parameter: '{param}'.");
        }
        // The reader's own errors (malformed JSON) arrive wrapped around the reader's exception; conversion errors do not.
        if (ex.GetType() != typeof(JsonException) || ex.InnerException is JsonException || ex.Path is null)
            return new SpecError(path, "invalid_json", $"Invalid JSON body: {Trim(message)}");
        return new SpecError(path, "invalid_type",
            path.Length == 0 ? "The request body must be a JSON object." : $"Invalid type for '{path}': {Describe(message)}.");
    }

    private static string Describe(string message) =>
        message.StartsWith("expected", StringComparison.Ordinal) ? message
        : message.Contains("System.String") ? "expected a string"
        : message.Contains("System.Int32") || message.Contains("System.Int64") ? "expected an integer in range"
        : message.Contains("System.Double") ? "expected a finite number"
        : message.Contains("System.Boolean") ? "expected true or false"
        : message.Contains("Dictionary") ? "expected an object of string values"
        : message.Contains("List") ? "expected an array of strings"
        : "expected an object";

    private static string Trim(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    /// <summary><c>$.method.dpo['x'].beta</c> → <c>method.dpo.x.beta</c>.</summary>
    public static string ToParam(string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$") return "";
        var path = jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.TrimStart('$');
        return BracketName().Replace(path, ".$1").TrimStart('.');
    }

    [GeneratedRegex(@"The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnmappedProperty();

    [GeneratedRegex(@"\['([^']*)'\]")]
    private static partial Regex BracketName();
}
