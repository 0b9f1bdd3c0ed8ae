namespace TuningService.Api.Events;

public static class EventStreamsSetup
{
    /// <summary>The options of the SSE stream and the process's one LISTEN connection (also wakes the webhook dispatcher).</summary>
    public static void AddEventStreams(this IServiceCollection services, IConfiguration configuration, string connectionString)
    {
        services.AddOptions<EventStreamOptions>().Bind(configuration.GetSection(EventStreamOptions.Section))
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero && o.BatchSize > 0, "EventStream options must be positive.")
            .ValidateOnStart();
        services.AddSingleton(sp => new DatabaseNotifications(connectionString, sp.GetRequiredService<ILogger<DatabaseNotifications>>()));
        services.AddHostedService(sp => sp.GetRequiredService<DatabaseNotifications>());
    }
}
