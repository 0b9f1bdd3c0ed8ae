using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
            .Validate(o => TrainingDevice.IsValidSetting(o.Device), "Worker:Device must be auto, cpu, cuda or cuda:N.")
            .Validate(o => TrainingDevice.IsAvailable(o.Device), "Worker:Device names a GPU this machine does not have (no CUDA, or an index past the last GPU): use auto or cpu.")
            .ValidateOnStart();
        var worker = configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>() ?? new WorkerOptions();

        var connectionString = configuration.GetConnectionString("Tuning")
            ?? throw new InvalidOperationException("ConnectionStrings:Tuning is not set.");
        // A PostgreSQL restart or failover must not fail a training job: every write and read of the runtime (events,
        // progress, stop polls, checkpoints, status changes) is retried on transient errors for about half a minute
        // (exponential back-off capped at 5 s). Training keeps its place meanwhile; an outage longer than that fails
        // the write, and the lease and the delivery reconciler take over from the newest checkpoint.
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
        services.AddSingleton<TrainingQueue>();

        services.AddHostedService<SchemaGate>();
        // Every worker reconciles deliveries: a job whose lease ran out is delivered again within about a lease period
        // (the lease is a worker setting), and a lost enqueue only matters once a worker is there to take it. Safe in
        // any number of processes: each delivery is a compare-and-set.
        services.Configure<DeliveryOptions>(o => o.Interval = TimeSpan.FromSeconds(Math.Max(1, worker.LeaseSeconds / 2.0)));
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService<DeliveryReconciler>();
        services.AddTrainingQueueStorage(connectionString, TimeSpan.FromSeconds(worker.InvisibilityTimeoutSeconds));
        services.AddHangfire(c => c
            .UseTrainingQueueSerialization()
            .UseFilter(new AutomaticRetryAttribute { Attempts = 0 }));
        services.AddHangfireServer(o =>
        {
            o.Queues = [ITrainingJobRunner.QueueName];
            o.WorkerCount = worker.Devices;
            o.ServerName = worker.Name;
            o.ShutdownTimeout = TimeSpan.FromSeconds(25);
        });
    }
}
