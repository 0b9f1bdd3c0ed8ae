using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TuningService.Domain;
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

    public LoadedModel Load(string projectId, string modelId, long seed)
    {
        try
        {
            if (FindProduced(projectId, modelId) is { } produced)
                return _catalog.Load(artifacts.FullPath(produced.ArtifactPath), seed) with { Id = modelId };
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
