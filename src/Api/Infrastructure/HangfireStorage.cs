using Hangfire.PostgreSql;

namespace TuningService.Api.Infrastructure;

public static class HangfireStorage
{
    /// <summary>Must match the worker's storage options: same schema, long polling, sliding invisibility.</summary>
    public static PostgreSqlStorageOptions Options() => new()
    {
        SchemaName = "hangfire",
        PrepareSchemaIfNecessary = true,
        EnableLongPolling = true,
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = TimeSpan.FromMinutes(5),
    };
}
