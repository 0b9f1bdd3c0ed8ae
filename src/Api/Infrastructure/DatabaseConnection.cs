using System.Data.Common;
using Npgsql;
using TuningService.Api.Limits;

namespace TuningService.Api.Infrastructure;

/// <summary>
/// The Api's two PostgreSQL connection pools, made from the one configured connection string: one for requests (EF Core),
/// one for Hangfire (enqueues, the dashboard, and the webhook delivery server). Hangfire's synchronous enqueues then never
/// hold the connections requests queue for.
/// </summary>
public static class DatabaseConnection
{
    /// <summary>
    /// Connections Hangfire may hold at once, unless the connection string says: enqueues and the dashboard, plus the
    /// webhook delivery server, whose long-polling fetches hold one connection per worker and whose background
    /// processes (heartbeat, scheduler, expiration) one each. Too few and deliveries wait behind pool timeouts.
    /// </summary>
    public const int HangfireMaxPoolSize = 30;

    /// <summary>
    /// The requests' pool. A burst beyond <c>Max Pool Size</c> queues for a pooled connection for up to
    /// <see cref="ApiLimitsOptions.DatabaseConnectTimeoutSeconds"/>; a server that is down refuses the connection and the
    /// request gets its 503 at once. Values the connection string sets itself win.
    /// </summary>
    public static string ForRequests(string connectionString, ApiLimitsOptions limits) => WithLimits(connectionString, limits).ConnectionString;

    /// <summary>Hangfire's own pool: the same server and limits under another application name, at most <see cref="HangfireMaxPoolSize"/> connections.</summary>
    public static string ForHangfire(string connectionString, ApiLimitsOptions limits)
    {
        var builder = WithLimits(connectionString, limits);
        if (!Sets(Given(connectionString), "Maximum Pool Size", "Max Pool Size", "MaxPoolSize")) builder.MaxPoolSize = HangfireMaxPoolSize;
        // A different application name is a different pool, even where every other setting is the same.
        builder.ApplicationName = $"{builder.ApplicationName ?? "TuningService.Api"} (Hangfire)";
        return builder.ConnectionString;
    }

    private static NpgsqlConnectionStringBuilder WithLimits(string connectionString, ApiLimitsOptions limits)
    {
        var given = Given(connectionString);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Sets(given, "Timeout")) builder.Timeout = limits.DatabaseConnectTimeoutSeconds;
        if (!Sets(given, "Command Timeout", "CommandTimeout")) builder.CommandTimeout = limits.DatabaseCommandTimeoutSeconds;
        // Idle pooled connections ping the server, so those a PostgreSQL restart killed are dropped from the pool
        // before a request picks them up.
        if (!Sets(given, "Keepalive")) builder.KeepAlive = limits.DatabaseKeepaliveSeconds;
        return builder;
    }

    private static DbConnectionStringBuilder Given(string connectionString) => new() { ConnectionString = connectionString };

    private static bool Sets(DbConnectionStringBuilder given, params string[] keywords) =>
        given.Keys.Cast<string>().Any(k => keywords.Contains(k, StringComparer.OrdinalIgnoreCase));
}
