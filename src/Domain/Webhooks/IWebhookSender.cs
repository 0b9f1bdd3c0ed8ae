namespace TuningService.Domain.Webhooks;

/// <summary>
/// The webhook queue's contract. It lives in Domain so every Hangfire process can load the job's type: the worker's
/// scheduler also moves delayed retries onto the <see cref="QueueName"/> queue, and a type it could not load would fail them.
/// Only the Api serves the queue.
/// </summary>
public interface IWebhookSender
{
    public const string QueueName = "webhooks";

    /// <summary>Delivers event <paramref name="eventId"/> to endpoint <paramref name="endpointId"/>; safe to run twice.</summary>
    Task SendAsync(long eventId, string endpointId, int attempt, CancellationToken ct);
}
