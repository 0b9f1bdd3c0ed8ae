using System.Text.Json;

namespace TuningService.Domain.Jobs;

public static class EventTypes
{
    public const string Message = "message";
    public const string Metrics = "metrics";
}

/// <summary>An append-only record of what happened to a job. Exposed as <c>ftevent-{Id}</c>.</summary>
public sealed class JobEvent
{
    public long Id { get; init; }
    public required string JobId { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
    /// <summary><c>info</c>, <c>warn</c> or <c>error</c>.</summary>
    public string Level { get; init; } = "info";
    public string Type { get; init; } = EventTypes.Message;
    public required string Message { get; init; }
    public JsonDocument? Data { get; init; }

    public string PublicId => $"ftevent-{Id}";
}
