using System.Security.Cryptography;

namespace TuningService.Domain.Webhooks;

/// <summary>A project's subscription: where to POST which event types, and the secret the deliveries are signed with.</summary>
public sealed class WebhookEndpoint
{
    public required string Id { get; init; }
    public required string ProjectId { get; init; }
    public required string Url { get; init; }
    /// <summary>The event types (<see cref="WebhookEventTypes"/>) this endpoint receives.</summary>
    public List<string> Events { get; init; } = [];
    /// <summary>Standard Webhooks secret, <c>whsec_</c> + base64 of 32 random bytes. Kept to sign; shown to the user once.</summary>
    public required string Secret { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}

/// <summary>The event types a webhook endpoint can subscribe to, named like OpenAI's.</summary>
public static class WebhookEventTypes
{
    public const string JobRunning = "fine_tuning.job.running";
    public const string JobSucceeded = "fine_tuning.job.succeeded";
    public const string JobFailed = "fine_tuning.job.failed";
    public const string JobCancelled = "fine_tuning.job.cancelled";
    public const string CheckpointCreated = "fine_tuning.job.checkpoint.created";

    public static readonly IReadOnlyList<string> All = [JobRunning, JobSucceeded, JobFailed, JobCancelled, CheckpointCreated];
}
