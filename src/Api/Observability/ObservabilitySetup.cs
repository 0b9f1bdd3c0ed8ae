using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace TuningService.Api.Observability;

public static class ObservabilitySetup
{
    /// <summary>
    /// Metrics for Prometheus (<c>/metrics</c>): this service's meter plus ASP.NET Core's HTTP server and Kestrel meters.
    /// Tracing only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set: HTTP server, outgoing HTTP (webhooks) and
    /// Npgsql spans, exported over OTLP (the exporter reads the standard OTEL_* variables).
    /// </summary>
    public static void AddObservability(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<ServiceStatus>();
        services.AddSingleton<TuningMetrics>();
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(configuration["OTEL_SERVICE_NAME"] ?? "tuning-api"))
            .WithMetrics(m => m
                .AddMeter(TuningMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
                .AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            otel.WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.Filter = c => !c.Request.Path.StartsWithSegments("/metrics"))
                .AddSource("System.Net.Http")
                .AddNpgsql()
                .AddOtlpExporter());
    }

    /// <summary><c>GET /metrics</c>, Prometheus text format, no API key (scrapers carry none; it holds counts, no content).</summary>
    public static void MapMetricsEndpoint(this WebApplication app)
    {
        app.Services.GetRequiredService<TuningMetrics>(); // creates the meter's instruments before the first scrape
        app.MapPrometheusScrapingEndpoint("/metrics");
    }
}
