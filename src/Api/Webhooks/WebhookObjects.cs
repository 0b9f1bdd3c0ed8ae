using System.Text.Json.Serialization;
using TuningService.Domain;
using TuningService.Domain.Webhooks;

namespace TuningService.Api.Webhooks;

/// <summary>A webhook endpoint. <c>secret</c> (<c>whsec_…</c>) appears only in the answer to its creation.</summary>
public sealed record WebhookEndpointObject(string Id, string Url, IReadOnlyList<string> Events, long CreatedAt)
{
    public string Object => "webhook_endpoint";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Secret { get; init; }

    public static WebhookEndpointObject From(WebhookEndpoint e) => new(e.Id, e.Url, e.Events, e.CreatedAt.ToUnixSeconds());
}

public sealed record WebhookEndpointDeleted(string Id)
{
    public string Object => "webhook_endpoint";
    public bool Deleted => true;
}

/// <summary>One delivery attempt: the receiver's status code (null when none answered), the error, and when.</summary>
public sealed record WebhookDeliveryObject(
    string Id, string EventId, string EventType, int Attempt, int? StatusCode, bool Succeeded, string? Error,
    long StartedAt, long FinishedAt, long? NextAttemptAt)
{
    public string Object => "webhook_delivery";

    public static WebhookDeliveryObject From(WebhookDelivery d) => new(
        d.PublicId, $"evt_{d.EventId}", d.EventType, d.Attempt, d.StatusCode, d.Succeeded, d.Error,
        d.StartedAt.ToUnixSeconds(), d.FinishedAt.ToUnixSeconds(), d.NextAttemptAt?.ToUnixSeconds());
}

/// <summary>The body POSTed to a receiver: <c>{id, object:"event", type, created_at, data:{id}}</c>, like OpenAI's.</summary>
public sealed record WebhookPayload(string Id, string Type, long CreatedAt, WebhookPayloadData Data)
{
    public string Object => "event";
}

/// <param name="Id">The fine-tuning job's id.</param>
public sealed record WebhookPayloadData(string Id);
