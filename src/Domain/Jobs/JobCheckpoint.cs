using System.Text.Json;

namespace TuningService.Domain.Jobs;

/// <summary>A saved training state of a job; its weights are in the artifact store.</summary>
public sealed class JobCheckpoint
{
    public required string Id { get; init; }
    public required string JobId { get; init; }
    public int Step { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>Directory relative to ArtifactsRoot holding weights, optimizer, scheduler, RNG and data position.</summary>
    public required string ArtifactPath { get; init; }
    /// <summary>Model name of the checkpoint, <c>ft:...:ckpt-step-{n}</c>.</summary>
    public required string FineTunedModelCheckpoint { get; init; }
    public JsonDocument? Metrics { get; init; }
    /// <summary>Set when the checkpoint was pruned; the row stays for history, the files are gone.</summary>
    public DateTimeOffset? PrunedAt { get; set; }
}
