using System.Text.Json;
using System.Text.Json.Serialization;

namespace TuningService.Domain.Inference;

/// <summary>
/// The body of <c>POST /v1/chat/completions</c> (<see cref="Messages"/>) or <c>POST /v1/completions</c>
/// (<see cref="Prompt"/>), as OpenAI defines it. Read by the Api (validation, routing) and by the inference worker
/// (generation) with <see cref="Json"/>; fields that can take two shapes stay <see cref="JsonElement"/>.
/// </summary>
public sealed class CompletionRequest
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string? Model { get; set; }
    public List<ChatMessageInput>? Messages { get; set; }
    /// <summary>A string, or a list holding one string.</summary>
    public JsonElement? Prompt { get; set; }
    public int? MaxTokens { get; set; }
    public int? MaxCompletionTokens { get; set; }
    /// <summary>0 is greedy; OpenAI's default is 1.</summary>
    public double? Temperature { get; set; }
    public double? TopP { get; set; }
    public int? N { get; set; }
    /// <summary>A string or a list of up to four strings.</summary>
    public JsonElement? Stop { get; set; }
    public long? Seed { get; set; }
    /// <summary>Chat: a boolean. Completions: the number of top alternatives (0..20).</summary>
    public JsonElement? Logprobs { get; set; }
    public int? TopLogprobs { get; set; }
    public bool? Stream { get; set; }
    public StreamOptions? StreamOptions { get; set; }
    public string? User { get; set; }

    [JsonIgnore] public int? RequestedMaxTokens => MaxCompletionTokens ?? MaxTokens;
    [JsonIgnore] public string MaxTokensField => MaxCompletionTokens is not null ? "max_completion_tokens" : "max_tokens";

    public IReadOnlyList<string> StopStrings() => Stop switch
    {
        { ValueKind: JsonValueKind.String } s => [s.GetString()!],
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList(),
        _ => [],
    };

    public string? PromptText() => Prompt switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Array } a when a.GetArrayLength() == 1 && a[0].ValueKind == JsonValueKind.String => a[0].GetString(),
        _ => null,
    };

    /// <summary>Top alternatives per token to report, or null for no logprobs.</summary>
    public int? LogprobAlternatives(bool chat) => Logprobs switch
    {
        { ValueKind: JsonValueKind.True } when chat => TopLogprobs ?? 0,
        { ValueKind: JsonValueKind.Number } n when !chat && n.TryGetInt32(out var k) => k,
        _ => null,
    };
}

public sealed class StreamOptions
{
    public bool? IncludeUsage { get; set; }
}

/// <summary>One message; content is a string or a list of <c>{"type":"text","text":...}</c> parts.</summary>
public sealed class ChatMessageInput
{
    public string? Role { get; set; }
    public JsonElement? Content { get; set; }
    public string? Name { get; set; }

    public string? Text() => Content switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Array } parts => string.Concat(parts.EnumerateArray()
            .Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            .Select(p => p.GetProperty("text").GetString())),
        { ValueKind: JsonValueKind.Null } => "",
        _ => null,
    };
}
