using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.DependencyInjection;

namespace TuningService.Domain.Queue;

/// <summary>
/// The one Hangfire configuration of every process that touches the <c>training</c> queue (the Api enqueues, workers
/// fetch, both reconcile): the same schema, job serialization and delivery guarantees on both sides.
/// </summary>
public static class TrainingQueueStorage
{
    /// <summary>A fetched job whose server vanished is delivered again after this (sliding: extended while it runs).</summary>
    public static readonly TimeSpan DefaultInvisibilityTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Registers this host's storage ahead of Hangfire's own registration, so that every client and server resolved
    /// from the container uses it: Hangfire.AspNetCore's default hands out the static <c>JobStorage.Current</c>, which
    /// another host in the same process (parallel test hosts) may have replaced in the meantime. Like Hangfire's own
    /// registration, it applies the global configuration (serializer, log provider) before the storage is used.
    /// </summary>
    public static IServiceCollection AddTrainingQueueStorage(this IServiceCollection services, string connectionString, TimeSpan? invisibilityTimeout = null) =>
        services.AddSingleton<JobStorage>(sp =>
        {
            _ = sp.GetService<IGlobalConfiguration>();
            var storage = Create(connectionString, invisibilityTimeout);
            JobStorage.Current = storage;
            return storage;
        });

    /// <summary>The PostgreSQL storage of the <c>training</c> (and <c>webhooks</c>) queues.</summary>
    public static JobStorage Create(string connectionString, TimeSpan? invisibilityTimeout = null)
    {
        var options = Options(invisibilityTimeout);
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
    }

    /// <summary>How every process serializes jobs: the same names and arguments on both sides of the queue.</summary>
    public static IGlobalConfiguration UseTrainingQueueSerialization(this IGlobalConfiguration configuration) =>
        configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings();

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
