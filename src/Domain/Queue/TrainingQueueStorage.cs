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
    public static IServiceCollection AddTrainingQueueStorage(this IServiceCollection services, string connectionString,
        TimeSpan? invisibilityTimeout = null, TimeSpan? queuePollInterval = null) =>
        services.AddSingleton<JobStorage>(sp =>
        {
            _ = sp.GetService<IGlobalConfiguration>();
            var storage = Create(connectionString, invisibilityTimeout, queuePollInterval);
            JobStorage.Current = storage;
            return storage;
        });

    /// <summary>The PostgreSQL storage of the <c>training</c> (and <c>webhooks</c>) queues.</summary>
    public static JobStorage Create(string connectionString, TimeSpan? invisibilityTimeout = null, TimeSpan? queuePollInterval = null)
    {
        var options = Options(invisibilityTimeout, queuePollInterval);
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
    }

    /// <summary>How every process serializes jobs: the same names and arguments on both sides of the queue.</summary>
    public static IGlobalConfiguration UseTrainingQueueSerialization(this IGlobalConfiguration configuration) =>
        configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings();

    /// <summary>
    /// Hangfire's own schema, sliding invisibility (a long run is not delivered again after 30 min), and long polling
    /// (no 15 s poll) unless <paramref name="queuePollInterval"/> asks for plain polling at that interval instead: the
    /// Api's webhook delivery server does, because its long-polling fetches were seen to miss new jobs for minutes
    /// when other storages in the same process were notified (tests/Api.Tests/Webhooks reproduced it 3 runs in 4).
    /// </summary>
    public static PostgreSqlStorageOptions Options(TimeSpan? invisibilityTimeout = null, TimeSpan? queuePollInterval = null) => new()
    {
        SchemaName = "hangfire",
        PrepareSchemaIfNecessary = true,
        EnableLongPolling = queuePollInterval is null,
        QueuePollInterval = queuePollInterval ?? TimeSpan.FromSeconds(15),
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = invisibilityTimeout ?? DefaultInvisibilityTimeout,
    };
}
