using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain;
using TuningService.Domain.Persistence;
using TuningService.Domain.Queue;
using TuningService.Worker.Runtime;
using TuningService.Worker.Runtime.Methods;

namespace TuningService.Worker.Hosting;

public static class Extensions
{
    public static void AddWorkerServices(this HostApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddOptions<TuningOptions>().Bind(configuration.GetSection(TuningOptions.Section));
        services.AddOptions<WorkerOptions>().Bind(configuration.GetSection(WorkerOptions.Section))
            .Validate(o => o.Devices is >= 1 and <= 64, "Worker:Devices must be between 1 and 64.")
            .Validate(o => o.LeaseSeconds is >= 3 and <= 3600, "Worker:LeaseSeconds must be between 3 and 3600.")
            .ValidateOnStart();
        var worker = configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>() ?? new WorkerOptions();

        var connectionString = configuration.GetConnectionString("Tuning")
            ?? throw new InvalidOperationException("ConnectionStrings:Tuning is not set.");
        // A PostgreSQL restart or failover must not fail a training job: every write and read of the runtime (events,
        // progress, stop polls, checkpoints, status changes) is retried on transient errors for about half a minute
        // (exponential back-off capped at 5 s). Training keeps its place meanwhile; an outage longer than that fails
        // the write, and the lease and the stale-job sweeper take over from the newest checkpoint.
        services.AddDbContextFactory<TuningDbContext>(o => o.UseNpgsql(connectionString,
            npgsql => npgsql.EnableRetryOnFailure(maxRetryCount: 8, maxRetryDelay: TimeSpan.FromSeconds(5), errorCodesToAdd: null)));

        // SIGTERM: Hangfire cancels the running job's token; the runner checkpoints and requeues within this window.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        services.AddSingleton<ArtifactStore>();
        services.AddSingleton<JobModels>();
        services.AddSingleton<TrainingFiles>();
        services.AddSingleton<ModelPublisher>();
        services.AddSingleton<ITrainingMethod, SupervisedMethod>();
        services.AddSingleton<ITrainingMethod, RewardModelMethod>();
        services.AddSingleton<ITrainingMethod, PpoMethod>();
        services.AddSingleton<ITrainingMethod, DpoMethod>();
        services.AddTransient<ITrainingJobRunner, TrainingJobRunner>();

        services.AddHostedService<SchemaGate>();
        services.AddHostedService<StaleJobSweeper>();
        services.AddHangfire(c => c
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseFilter(new AutomaticRetryAttribute { Attempts = 0 })
            .UsePostgreSqlStorage(o => o.UseNpgsqlConnection(connectionString), HangfireStorageOptions(worker.InvisibilityTimeoutSeconds)));
        services.AddHangfireServer(o =>
        {
            o.Queues = [ITrainingJobRunner.QueueName];
            o.WorkerCount = worker.Devices;
            o.ServerName = worker.Name;
            o.ShutdownTimeout = TimeSpan.FromSeconds(25);
        });
    }

    /// <summary>Must match the API's: same schema, long polling (no 15 s poll), sliding invisibility (no re-run after 30 min).</summary>
    public static PostgreSqlStorageOptions HangfireStorageOptions(int invisibilityTimeoutSeconds = 300) => new()
    {
        SchemaName = "hangfire",
        PrepareSchemaIfNecessary = true,
        EnableLongPolling = true,
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = TimeSpan.FromSeconds(invisibilityTimeoutSeconds),
    };
}
