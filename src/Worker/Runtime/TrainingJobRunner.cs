using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TorchSharp;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;
using TuningService.Domain.Queue;
using TuningService.Worker.Hosting;

namespace TuningService.Worker.Runtime;

/// <summary>
/// Runs one delivery of a training job. Hangfire delivers at least once, so a run is idempotent: it claims the
/// job with a compare-and-set lease (a second delivery while a live worker trains it does nothing), heartbeats
/// while training, and always starts from the job's newest checkpoint. A worker that dies loses at most the
/// steps since that checkpoint; after <see cref="WorkerOptions.MaxCrashRestarts"/> take-overs the job fails
/// with <c>worker_crashed</c>. SIGTERM checkpoints and requeues; cancel and pause are honoured within one step.
/// </summary>
public sealed class TrainingJobRunner(
    IDbContextFactory<TuningDbContext> dbFactory,
    IEnumerable<ITrainingMethod> methods,
    ArtifactStore artifacts,
    JobModels models,
    TrainingFiles datasets,
    ModelPublisher publisher,
    TrainingQueue queue,
    IOptions<WorkerOptions> options,
    ILogger<TrainingJobRunner> logger) : ITrainingJobRunner
{
    private readonly WorkerOptions _options = options.Value;

    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(string jobId, CancellationToken cancellationToken)
    {
        var lease = TimeSpan.FromSeconds(_options.LeaseSeconds);
        var claim = await JobLease.TryClaimAsync(dbFactory, jobId, _options.Name, lease, cancellationToken);
        if (claim is null)
        {
            logger.LogInformation("Job {JobId} is not runnable here (finished, paused or held by a live worker); delivery ignored.", jobId);
            return;
        }
        var (jobLease, job) = claim.Value;
        var reporter = new JobReporter(dbFactory, jobLease, logger);

        if (job.CrashRestarts > _options.MaxCrashRestarts)
        {
            await jobLease.ChangeAsync(j => j.IsLeasedBy(_options.Name) ? j.Fail(DateTimeOffset.UtcNow, new JobError(JobFailures.WorkerCrashed,
                $"The job's worker stopped responding {j.CrashRestarts} times (the process was killed or ran out of memory). " +
                "Lower batch_size or max_seq_length, or check the workers' health, then create the job again.")) : null);
            return;
        }

        using var heartbeatStop = new CancellationTokenSource();
        var lostLease = false;
        var heartbeat = HeartbeatAsync(jobLease, () => lostLease = true, heartbeatStop.Token);
        try
        {
            var result = await Task.Factory.StartNew(
                () => Train(job, jobLease, reporter, () => lostLease, cancellationToken),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await FinishAsync(job, jobLease, result);
        }
        catch (Exception e) when (!lostLease)
        {
            var error = JobFailures.Classify(e);
            if (error.Code == JobFailures.InternalError) logger.LogError(e, "Job {JobId} failed", jobId);
            else logger.LogWarning("Job {JobId} failed: {Code}: {Message}", jobId, error.Code, error.Message);
            await jobLease.ChangeAsync(j => j.IsLeasedBy(_options.Name) ? j.Fail(DateTimeOffset.UtcNow, error) : null);
        }
        finally
        {
            await heartbeatStop.CancelAsync();
            await heartbeat;
        }
    }

    private MethodResult Train(TrainingJob job, JobLease lease, JobReporter reporter, Func<bool> lostLease, CancellationToken shutdown)
    {
        var method = methods.FirstOrDefault(m => m.MethodTypes.Contains(job.MethodType))
            ?? throw JobFailures.Fail(JobFailures.InvalidHyperparameters, $"Method type '{job.MethodType}' is not supported by this worker.", "method.type");
        artifacts.EnsureWritable();
        if (_options.CpuThreads > 0) torch.set_num_threads(_options.CpuThreads);
        var device = Hosting.TrainingDevice.Resolve(_options.Device);
        reporter.Info($"Worker {_options.Name} is training on {DescribeDevice(device)} (attempt {job.Attempts}).",
            new { worker = _options.Name, device = device.type.ToString().ToLowerInvariant(), attempt = job.Attempts });

        var checkpoints = new CheckpointRegistry(dbFactory, artifacts, _options.KeepCheckpoints);
        var resume = checkpoints.NewestAsync(job.Id, Engine.Training.TrainingCheckpoint.Exists, CancellationToken.None).GetAwaiter().GetResult();
        var run = new TrainingRun
        {
            Job = job,
            Reporter = reporter,
            Checkpoints = checkpoints,
            Artifacts = artifacts,
            Models = models,
            Datasets = datasets,
            Device = device,
            ModelName = ModelPublisher.ModelName(job, id => models.RecordedBase(job.ProjectId, id)),
            ResumeDirectory = resume is null ? null : artifacts.FullPath(resume.ArtifactPath),
            MetricsInterval = _options.MetricsInterval,
            PollStop = () => lostLease() ? StopReason.LostLease
                : shutdown.IsCancellationRequested ? StopReason.Shutdown
                : lease.ReadRequestedStop(),
        };
        return method.Run(run);
    }

    private async Task FinishAsync(TrainingJob job, JobLease lease, MethodResult result)
    {
        var now = DateTimeOffset.UtcNow;
        switch (result.Stopped)
        {
            case StopReason.None:
                await publisher.PublishAsync(lease, result);
                await new CheckpointRegistry(dbFactory, artifacts, _options.KeepCheckpoints).DropResumeStateOfSucceededJobAsync(job.Id, CancellationToken.None);
                break;
            case StopReason.Cancel:
                await lease.ChangeAsync(j => j.Status == JobStatus.Running ? j.ConfirmCancelled(now) : null);
                break;
            case StopReason.Pause:
                await lease.ChangeAsync(j => j.Status == JobStatus.Running ? j.ConfirmPaused(now, j.Step) : null);
                break;
            case StopReason.Shutdown:
                string? status = null, delivery = null;
                await lease.ChangeAsync(j =>
                {
                    if (j.Status != JobStatus.Running) return null;
                    var change = j.Requeue(now, $"worker {_options.Name} is shutting down; training continues from the newest checkpoint.");
                    (status, delivery) = (j.Status, j.HangfireJobId);
                    return change;
                });
                // A requeued job needs a fresh delivery: this one ends now. Should this process die first, Hangfire delivers
                // this one again after its invisibility timeout.
                if (status == JobStatus.Queued)
                {
                    await using var db = await dbFactory.CreateDbContextAsync();
                    await queue.EnqueueAsync(db, job.Id, delivery, CancellationToken.None);
                }
                break;
            case StopReason.LostLease:
                logger.LogWarning("Job {JobId} was taken over by another worker; this run stops without writing.", job.Id);
                break;
        }
    }

    private async Task HeartbeatAsync(JobLease lease, Action onLost, CancellationToken stop)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(1, _options.LeaseSeconds / 6.0));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, stop);
                if (!await lease.HeartbeatAsync(stop))
                {
                    onLost();
                    return;
                }
            }
            catch (OperationCanceledException) { return; }
            catch (Exception e)
            {
                // Postgres briefly unreachable: keep training; the lease has slack for a few missed beats.
                logger.LogWarning("Heartbeat for job {JobId} failed: {Message}", lease.JobId, e.Message);
            }
        }
    }

    private static string DescribeDevice(torch.Device device) =>
        device.type == DeviceType.CUDA ? $"cuda:{device.index} (of {torch.cuda.device_count()} CUDA device(s))" : $"CPU ({torch.get_num_threads()} threads)";
}
