using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;
using TuningService.Domain.Queue;
using TuningService.Worker.Hosting;

namespace TuningService.Worker.Runtime;

/// <summary>
/// A worker killed hard leaves its job <c>running</c> with a lease nobody renews. Every sweep, any live worker
/// re-enqueues such jobs once their lease has expired, so they resume from their newest checkpoint within about a
/// lease period instead of waiting for Hangfire's invisibility timeout. The compare-and-set on the lease expiry
/// makes concurrent sweepers enqueue a job once; a duplicate delivery would be harmless anyway (the runner claims).
/// </summary>
public sealed class StaleJobSweeper(
    IDbContextFactory<TuningDbContext> dbFactory,
    IBackgroundJobClient queue,
    IOptions<WorkerOptions> options,
    ILogger<StaleJobSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(1, options.Value.LeaseSeconds / 2.0));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Sweep for abandoned jobs failed: {Message}", e.Message);
            }
            try { await Task.Delay(interval, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    public async Task<int> SweepAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = DateTimeOffset.UtcNow;
        var abandoned = await db.Jobs.AsNoTracking()
            .Where(j => j.Status == JobStatus.Running && j.LeaseExpiresAt < now)
            .Select(j => new { j.Id, j.LeaseExpiresAt })
            .ToListAsync(ct);
        var count = 0;
        foreach (var job in abandoned)
        {
            // Release the dead worker's lease and push the expiry one lease ahead: this sweeper owns the re-delivery,
            // concurrent sweepers skip the job, and any worker may claim it (an ownerless lease blocks nobody).
            var next = now + TimeSpan.FromSeconds(options.Value.LeaseSeconds);
            var won = await db.Jobs.Where(j => j.Id == job.Id && j.Status == JobStatus.Running && j.LeaseExpiresAt == job.LeaseExpiresAt)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.LeaseExpiresAt, next).SetProperty(j => j.LeaseOwner, (string?)null), ct);
            if (won == 0) continue;
            var jobId = job.Id;
            var hangfireId = queue.Create(Hangfire.Common.Job.FromExpression<ITrainingJobRunner>(r => r.RunAsync(jobId, CancellationToken.None)),
                new EnqueuedState(ITrainingJobRunner.QueueName));
            await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.HangfireJobId, hangfireId), ct);
            logger.LogWarning("Job {JobId} lost its worker (lease expired); re-enqueued to resume from its newest checkpoint.", jobId);
            count++;
        }
        return count;
    }
}
