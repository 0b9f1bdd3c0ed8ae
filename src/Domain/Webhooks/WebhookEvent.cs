namespace TuningService.Domain.Webhooks;

/// <summary>
/// The webhook outbox. Rows are written by database triggers in the same transaction as the change they announce
/// (a job's status moving to running/succeeded/failed/cancelled, a checkpoint row inserted), whichever process made it,
/// so a committed change always has its event and a rolled-back one never does. The Api's dispatcher turns each row
/// into deliveries and stamps <see cref="DispatchedAt"/>. Exposed as <c>evt_{Id}</c>.
/// </summary>
public sealed class WebhookEvent
{
    public long Id { get; init; }
    public required string ProjectId { get; init; }
    public required string JobId { get; init; }
    public required string Type { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DispatchedAt { get; set; }

    public string PublicId => $"evt_{Id}";
}

/// <summary>One attempt to deliver one event to one endpoint, successful or not.</summary>
public sealed class WebhookDelivery
{
    public long Id { get; init; }
    public required string EndpointId { get; init; }
    public long EventId { get; init; }
    public required string EventType { get; init; }
    /// <summary>1 for the first attempt, counting up through the retries.</summary>
    public int Attempt { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset FinishedAt { get; init; }
    /// <summary>The receiver's HTTP status; null when no response came (refused, timed out, unresolvable).</summary>
    public int? StatusCode { get; init; }
    public bool Succeeded { get; init; }
    public string? Error { get; init; }
    /// <summary>When the next attempt is due; null after a success or the last attempt.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }

    public string PublicId => $"whdel_{Id}";
}
