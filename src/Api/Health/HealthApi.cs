using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using CheckStatus = Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus;

namespace TuningService.Api.Health;

public sealed record HealthStatus(string Status, string? Detail = null);

/// <summary>
/// Liveness (no checks: the process answers) and readiness (the checks tagged <see cref="ReadyTag"/>, PostgreSQL among
/// them) on ASP.NET Core health checks. The routes are minimal-API handlers over <see cref="HealthCheckService"/>
/// rather than <c>MapHealthChecks</c>, whose endpoints the OpenAPI document cannot describe and which answer any verb.
/// </summary>
public static class HealthApi
{
    public const string ReadyTag = "ready";

    public static void AddHealth(this IServiceCollection services) => services.AddHealthChecks()
        .AddCheck<DatabaseReadinessCheck>(DatabaseReadinessCheck.Name, tags: [ReadyTag], timeout: TimeSpan.FromSeconds(3));

    public static void MapHealthApi(this IEndpointRouteBuilder app)
    {
        var health = app.MapGroup("/health").WithTags("Health").AllowAnonymous();
        health.MapGet("/live", () => TypedResults.Ok(new HealthStatus("live")))
            .WithName("Live").WithSummary("The process is up.");
        health.MapGet("/ready", Ready)
            .WithName("Ready").WithSummary("PostgreSQL answers and every migration is applied.");
    }

    private static async Task<Results<Ok<HealthStatus>, JsonHttpResult<HealthStatus>>> Ready(HealthCheckService checks, CancellationToken ct)
    {
        var report = await checks.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), ct);
        if (report.Status == CheckStatus.Healthy) return TypedResults.Ok(new HealthStatus("ready"));
        var failed = report.Entries.Values.First(e => e.Status != CheckStatus.Healthy);
        return TypedResults.Json(new HealthStatus("not_ready", failed.Description), statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
