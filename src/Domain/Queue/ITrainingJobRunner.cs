namespace TuningService.Domain.Queue;

/// <summary>
/// The queue contract between Api (client) and Worker (server). The queue carries only the job id;
/// everything else is read from PostgreSQL. Delivered at least once: the runner must be safe to run twice.
/// </summary>
public interface ITrainingJobRunner
{
    public const string QueueName = "training";

    Task RunAsync(string jobId, CancellationToken cancellationToken);
}
