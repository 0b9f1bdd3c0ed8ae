namespace TuningService.Domain.Inference;

/// <summary>
/// A live inference worker process as the Api sees it: where to reach it and what it has in memory. The worker
/// writes its row on start and refreshes <see cref="HeartbeatAt"/> every few seconds; a row whose heartbeat is older
/// than the Api's liveness window is ignored (a crashed worker simply stops being chosen).
/// </summary>
public sealed class InferenceWorker
{
    /// <summary>Unique per process (host name, process id and a random part).</summary>
    public required string Id { get; init; }
    /// <summary>Base URL the Api forwards generation requests to, e.g. <c>http://10.0.0.5:8090</c>.</summary>
    public required string Address { get; set; }
    /// <summary>Model ids whose weights are in memory now (base models and adapters); routing prefers these.</summary>
    public List<string> ResidentModels { get; set; } = [];
    public DateTimeOffset StartedAt { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset HeartbeatAt { get; set; } = DateTimeOffset.UtcNow;
}
