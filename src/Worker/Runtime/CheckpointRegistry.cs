using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;

namespace TuningService.Worker.Runtime;

/// <summary>
/// Records a job's checkpoints (metadata in Postgres, files in the artifact store), finds the newest one to resume
/// from, and keeps only the newest few on disk.
/// </summary>
public sealed class CheckpointRegistry(IDbContextFactory<TuningDbContext> dbFactory, ArtifactStore artifacts, int keep)
{
    /// <summary>The newest checkpoint whose files are complete, or null for a fresh start.</summary>
    public async Task<JobCheckpoint?> NewestAsync(string jobId, Func<string, bool> isComplete, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var checkpoints = await db.Checkpoints.AsNoTracking()
            .Where(c => c.JobId == jobId && c.PrunedAt == null)
            .OrderByDescending(c => c.Step)
            .ToListAsync(ct);
        return checkpoints.FirstOrDefault(c => isComplete(artifacts.FullPath(c.ArtifactPath)));
    }

    /// <summary>
    /// Once a job has succeeded it can never resume: its kept checkpoints keep their weights (served, downloaded, used
    /// as a new job's base) and drop the optimizer state, two thirds of each one's size.
    /// </summary>
    public async Task DropResumeStateOfSucceededJobAsync(string jobId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Jobs.Where(j => j.Id == jobId).Select(j => j.Status).SingleOrDefaultAsync(ct) != JobStatus.Succeeded) return;
        var kept = await db.Checkpoints.AsNoTracking().Where(c => c.JobId == jobId && c.PrunedAt == null).Select(c => c.ArtifactPath).ToListAsync(ct);
        foreach (var path in kept) Engine.Training.TrainingCheckpoint.DropResumeState(artifacts.FullPath(path));
    }

    /// <summary>
    /// Registers a checkpoint already written to <paramref name="relativePath"/>, then prunes older ones beyond the newest <c>keep</c>,
    /// except <paramref name="keepStep"/>'s (the best checkpoint by validation loss, which the job will publish).
    /// </summary>
    public void Register(TrainingJob job, int step, string relativePath, string modelName, IReadOnlyDictionary<string, double?> metrics, int? keepStep = null)
    {
        using var db = dbFactory.CreateDbContext();
        if (db.Checkpoints.Any(c => c.JobId == job.Id && c.Step == step)) return; // written again after a resume: same step, same state
        db.Checkpoints.Add(new JobCheckpoint
        {
            Id = Ids.New("ftckpt-"),
            JobId = job.Id,
            Step = step,
            ArtifactPath = relativePath,
            FineTunedModelCheckpoint = $"{modelName}:ckpt-step-{step}",
            Metrics = JsonSerializer.SerializeToDocument(
                metrics.Where(m => m.Value is double v && double.IsFinite(v)).ToDictionary(m => m.Key, m => m.Value)),
        });
        db.JobEvents.Add(job.RecordEvent(DateTimeOffset.UtcNow, $"Checkpoint saved at step {step}."));
        db.SaveChanges();

        var stale = db.Checkpoints.Where(c => c.JobId == job.Id && c.PrunedAt == null)
            .OrderByDescending(c => c.Step).Skip(keep).ToList().Where(c => c.Step != keepStep).ToList();
        foreach (var checkpoint in stale)
        {
            artifacts.DeleteQuietly(checkpoint.ArtifactPath);
            checkpoint.PrunedAt = DateTimeOffset.UtcNow;
        }
        db.SaveChanges();
    }
}
