namespace TuningService.Api.Inference;

/// <summary>How the Api routes generation requests, bound from the <c>Inference</c> section.</summary>
public sealed class InferenceRoutingOptions
{
    public const string Section = "Inference";

    /// <summary>A worker whose heartbeat is older than this many seconds is taken for dead and not chosen.</summary>
    public int LivenessSeconds { get; set; } = 15;
    /// <summary>The Retry-After (seconds) of a 503 when no inference worker is live.</summary>
    public int RetryAfterSeconds { get; set; } = 5;
}
