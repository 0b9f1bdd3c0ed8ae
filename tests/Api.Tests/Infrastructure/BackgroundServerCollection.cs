namespace TuningService.Api.Tests.Infrastructure;

/// <summary>
/// Test classes whose Api host runs background servers (the webhook Hangfire server, the metrics exporter's
/// observable gauges). Hangfire and OpenTelemetry keep process-wide state (log provider, filters, meters) that one
/// production process never shares, but parallel in-process test hosts do; these classes run alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BackgroundServerCollection
{
    public const string Name = "Api hosts with background servers";
}
