using Hangfire;
using Hangfire.PostgreSql;

namespace TuningService.Domain.Queue;

/// <summary>
/// The one Hangfire configuration of every process that touches the <c>training</c> queue (the Api enqueues, workers
/// fetch, both reconcile): the same schema, job serialization and delivery guarantees on both sides.
/// </summary>
public static class TrainingQueueStorage
{
    /// <summary>A fetched job whose server vanished is delivered again after this (sliding: extended while it runs).</summary>
    public static readonly TimeSpan DefaultInvisibilityTimeout = TimeSpan.FromMinutes(5);

    public static IGlobalConfiguration UseTrainingQueueStorage(
        this IGlobalConfiguration configuration, string connectionString, TimeSpan? invisibilityTimeout = null) =>
        configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(o => o.UseNpgsqlConnection(connectionString), Options(invisibilityTimeout));

    /// <summary>Hangfire's own schema, long polling (no 15 s poll), sliding invisibility (a long run is not delivered again after 30 min).</summary>
    public static PostgreSqlStorageOptions Options(TimeSpan? invisibilityTimeout = null) => new()
    {
        SchemaName = "hangfire",
        PrepareSchemaIfNecessary = true,
        EnableLongPolling = true,
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = invisibilityTimeout ?? DefaultInvisibilityTimeout,
    };
}
