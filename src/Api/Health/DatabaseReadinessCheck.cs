using Microsoft.Extensions.Diagnostics.HealthChecks;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Health;

/// <summary>Ready when PostgreSQL answers and every migration this build knows is applied.</summary>
public sealed class DatabaseReadinessCheck(TuningDbContext db) : IHealthCheck
{
    public const string Name = "postgres";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            return await DatabaseSetup.IsSchemaCurrentAsync(db, ct)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("database migrations pending");
        }
        catch (Exception ex)
        {
            // Unreachable, refused, timed out (the registration's timeout cancels ct): all the same to a load balancer.
            return HealthCheckResult.Unhealthy("database unavailable", ex);
        }
    }
}
