using System.Data.Common;
using Npgsql;
using TuningService.Api.Limits;

namespace TuningService.Api.Infrastructure;

public static class DatabaseConnection
{
    /// <summary>
    /// The configured connection string with fail-fast timeouts: while PostgreSQL is down a request gets a 503 within
    /// the connect timeout instead of hanging. Values the connection string sets itself win.
    /// </summary>
    public static string WithTimeouts(string connectionString, ApiLimitsOptions limits)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Sets(given, "Timeout")) builder.Timeout = limits.DatabaseConnectTimeoutSeconds;
        if (!Sets(given, "Command Timeout", "CommandTimeout")) builder.CommandTimeout = limits.DatabaseCommandTimeoutSeconds;
        // Idle pooled connections ping the server, so those a PostgreSQL restart killed are dropped from the pool
        // before a request picks them up.
        if (!Sets(given, "Keepalive")) builder.KeepAlive = limits.DatabaseKeepaliveSeconds;
        return builder.ConnectionString;
    }

    private static bool Sets(DbConnectionStringBuilder given, params string[] keywords) =>
        given.Keys.Cast<string>().Any(k => keywords.Contains(k, StringComparer.OrdinalIgnoreCase));
}
