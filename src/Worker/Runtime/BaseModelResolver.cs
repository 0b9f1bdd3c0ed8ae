using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TuningService.Domain;
using TuningService.Domain.Jobs;
using TuningService.Domain.Models;
using TuningService.Domain.Persistence;
using TuningService.Worker.Engine;

namespace TuningService.Worker.Runtime;

/// <summary>
/// Finds and loads the model a job starts from: a built-in preset, a Hugging Face directory under ModelsRoot,
/// or a model an earlier job of the same project produced (so fine-tunes can be continued).
/// </summary>
public sealed class BaseModelResolver(IDbContextFactory<TuningDbContext> dbFactory, ArtifactStore artifacts, IOptions<TuningOptions> options)
{
    private readonly ModelCatalog _catalog = new(Path.GetFullPath(options.Value.ModelsRoot));

    public ModelCatalog Catalog => _catalog;

    /// <summary>The record of a model an earlier job produced, when <paramref name="modelId"/> names one in <paramref name="projectId"/>.</summary>
    public ModelRecord? FindProduced(string projectId, string modelId)
    {
        using var db = dbFactory.CreateDbContext();
        return db.Models.AsNoTracking().SingleOrDefault(m => m.Id == modelId && m.ProjectId == projectId && m.DeletedAt == null);
    }

    /// <summary>A checkpoint (<c>ft:…:ckpt-step-N</c>) of one of the project's jobs, unless pruned: its directory and the job that wrote it.</summary>
    public (string Directory, TrainingJob Job)? FindCheckpoint(string projectId, string checkpointId)
    {
        using var db = dbFactory.CreateDbContext();
        var found = (from c in db.Checkpoints.AsNoTracking()
                     join j in db.Jobs.AsNoTracking() on c.JobId equals j.Id
                     where c.FineTunedModelCheckpoint == checkpointId && j.ProjectId == projectId && c.PrunedAt == null
                     select new { c.ArtifactPath, Job = j }).FirstOrDefault();
        return found is null ? null : (artifacts.FullPath(found.ArtifactPath), found.Job);
    }

    /// <summary>A full checkpoint loads as a model directory; a LoRA checkpoint is its job's base with the adapter merged in.</summary>
    private LoadedModel LoadCheckpoint(string checkpointId, string directory, TrainingJob job, long seed)
    {
        if (File.Exists(Path.Combine(directory, "config.json"))) return _catalog.Load(directory, seed) with { Id = checkpointId };
        var loaded = Load(job.ProjectId, job.Model, job.Seed);
        Inference.ServedAdapter.MergeInto(loaded.Model, directory);
        return loaded with { Id = checkpointId };
    }

    public LoadedModel Load(string projectId, string modelId, long seed)
    {
        try
        {
            if (FindProduced(projectId, modelId) is { } produced)
                return _catalog.Load(artifacts.FullPath(produced.ArtifactPath), seed) with { Id = modelId };
            if (FindCheckpoint(projectId, modelId) is { } checkpoint)
                return LoadCheckpoint(modelId, checkpoint.Directory, checkpoint.Job, seed);
            if (!_catalog.Exists(modelId))
                throw JobFailures.Fail(JobFailures.ModelLoadFailed, $"Model '{modelId}' was not found among the presets, {_catalog.ModelsRoot} or this project's models.", "model");
            return _catalog.Load(modelId, seed);
        }
        catch (JobFailureException) { throw; }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or KeyNotFoundException or System.Text.Json.JsonException or NotSupportedException or ArgumentException)
        {
            throw JobFailures.Fail(JobFailures.ModelLoadFailed, $"Model '{modelId}' could not be loaded: {e.Message}", "model", e);
        }
    }
}
