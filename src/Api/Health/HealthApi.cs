using Microsoft.AspNetCore.Http.HttpResults;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Health;

public sealed record HealthStatus(string Status, string? Detail = null);

public static class HealthApi
{
    public static void MapHealthApi(this IEndpointRouteBuilder app)
    {
        var health = app.MapGroup("/health").WithTags("Health").AllowAnonymous();
        health.MapGet("/live", () => TypedResults.Ok(new HealthStatus("live")))
            .WithName("Live").WithSummary("The process is up.");
        health.MapGet("/ready", Ready)
            .WithName("Ready").WithSummary("PostgreSQL answers and every migration is applied.");
    }

    private static async Task<Results<Ok<HealthStatus>, JsonHttpResult<HealthStatus>>> Ready(TuningDbContext db, CancellationToken ct)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            return await DatabaseSetup.IsSchemaCurrentAsync(db, timeout.Token)
                ? TypedResults.Ok(new HealthStatus("ready"))
                : TypedResults.Json(new HealthStatus("not_ready", "database migrations pending"), statusCode: 503);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return TypedResults.Json(new HealthStatus("not_ready", "database unavailable"), statusCode: 503);
        }
    }
}
