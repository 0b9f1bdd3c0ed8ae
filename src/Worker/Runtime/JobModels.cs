using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TuningService.Domain;
using TuningService.Domain.Models;
using TuningService.Domain.Persistence;
using TuningService.Worker.Engine;

namespace TuningService.Worker.Runtime;

/// <summary>
/// The models a job names, resolved by the Domain's <see cref="ModelCatalog"/> exactly as the API resolved them when
/// it accepted the job (a preset, a base checkpoint, or a model an earlier job of the same project produced) and
/// loaded by the engine's <see cref="ModelLoader"/>. Every failure becomes <c>model_load_failed</c>.
/// </summary>
public sealed class JobModels(IDbContextFactory<TuningDbContext> dbFactory, IOptions<TuningOptions> options)
{
    /// <summary>The record of a model an earlier job produced, when <paramref name="modelId"/> names one in <paramref name="projectId"/>.</summary>
    public ModelRecord? FindProduced(string projectId, string modelId)
    {
        using var db = dbFactory.CreateDbContext();
        return Catalog(db).FindRecordAsync(projectId, modelId).GetAwaiter().GetResult();
    }

    /// <summary>The root base recorded for a model or checkpoint of <paramref name="projectId"/> (<see cref="ModelCatalog.RecordedBase"/>).</summary>
    public string? RecordedBase(string projectId, string modelId)
    {
        using var db = dbFactory.CreateDbContext();
        return ModelCatalog.RecordedBase(db, projectId, modelId);
    }

    /// <summary>
    /// Loads what <paramref name="modelId"/> names. A full checkpoint loads as its directory; a LoRA checkpoint holds only
    /// the adapter, so it is its job's base with the adapter merged in.
    /// </summary>
    public LoadedModel Load(string projectId, string modelId, long seed)
    {
        try
        {
            ModelEntry? model;
            CheckpointModel? checkpoint = null;
            string modelsRoot;
            using (var db = dbFactory.CreateDbContext())
            {
                var catalog = Catalog(db);
                model = catalog.FindAsync(projectId, modelId).GetAwaiter().GetResult();
                if (model?.Kind == ModelKinds.Checkpoint) checkpoint = catalog.FindCheckpointAsync(projectId, modelId).GetAwaiter().GetResult();
                modelsRoot = catalog.ModelsRoot;
            }
            if (checkpoint is { Model.Directory: { } adapter } && !File.Exists(Path.Combine(adapter, "config.json")))
            {
                var loaded = Load(checkpoint.Job.ProjectId, checkpoint.Job.Model, checkpoint.Job.Seed);
                Inference.ServedAdapter.MergeInto(loaded.Model, adapter);
                return loaded with { Id = modelId };
            }
            return ModelLoader.Load(model ?? throw JobFailures.Fail(JobFailures.ModelLoadFailed,
                $"Model '{modelId}' was not found among the presets, {modelsRoot} or this project's models.", "model"), seed);
        }
        catch (JobFailureException) { throw; }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or KeyNotFoundException or System.Text.Json.JsonException or NotSupportedException or ArgumentException)
        {
            throw JobFailures.Fail(JobFailures.ModelLoadFailed, $"Model '{modelId}' could not be loaded: {e.Message}", "model", e);
        }
    }

    private ModelCatalog Catalog(TuningDbContext db) => new(db, options.Value);
}
