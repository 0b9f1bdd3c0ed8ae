using System.ComponentModel.DataAnnotations;

namespace TuningService.Api.Limits;

/// <summary>
/// Request size and rate limits of the HTTP API, bound from the <c>Limits</c> section and validated on start.
/// Every field is listed in <c>docs/configuration-limits.md</c>.
/// </summary>
public sealed class ApiLimitsOptions
{
    public const string Section = "Limits";

    /// <summary>
    /// Largest request body, in bytes, that any route accepts unless it raises its own limit with
    /// <c>[RequestSizeLimit]</c> / <see cref="Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata"/> (uploads do).
    /// A larger body gets 413 <c>request_too_large</c>. Default 1 MiB.
    /// </summary>
    [Range(1024, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Requests one API key (the admin key included) may make to <c>/v1</c> per window; requests without a valid key
    /// share one budget per client IP. Over the limit: 429 <c>rate_limit_exceeded</c> with <c>Retry-After</c>.
    /// 0 turns rate limiting off. Default 1200.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int RateLimitRequestsPerWindow { get; set; } = 1200;

    /// <summary>Length of the fixed rate-limit window, in seconds. Default 60.</summary>
    [Range(1, 86_400)]
    public int RateLimitWindowSeconds { get; set; } = 60;

    /// <summary>
    /// Seconds a request waits for a PostgreSQL connection, pooled or new, before it fails with 503 (Npgsql
    /// <c>Timeout</c>), unless the connection string sets <c>Timeout</c> itself. A burst beyond the pool's size queues
    /// this long; a server that is down refuses at once, so that 503 does not wait. Default 30.
    /// </summary>
    [Range(1, 300)]
    public int DatabaseConnectTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Seconds one SQL command may run before it is cancelled (Npgsql <c>Command Timeout</c>), unless the connection
    /// string sets it itself. Default 30.
    /// </summary>
    [Range(1, 3600)]
    public int DatabaseCommandTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Seconds of inactivity after which a pooled PostgreSQL connection is pinged (Npgsql <c>Keepalive</c>), so
    /// connections a database restart killed leave the pool before a request gets one. 0 turns pings off. Default 2.
    /// </summary>
    [Range(0, 3600)]
    public int DatabaseKeepaliveSeconds { get; set; } = 2;
}
