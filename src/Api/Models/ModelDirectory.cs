using Microsoft.EntityFrameworkCore;
using TuningService.Domain;
using TuningService.Domain.Models;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Models;

/// <summary>A model a project can see: a base preset, a base checkpoint under ModelsRoot, or one of its own fine-tuned models.</summary>
public sealed record ModelEntry(string Id, string Kind, string? Architecture, string? BaseModel, DateTimeOffset Created, string OwnedBy, string? Description, long? ParameterCount)
{
    public bool IsBase => Kind is BaseModelKinds.Preset or BaseModelKinds.Checkpoint;
}

public sealed record CheckpointModel(string Id, string BaseModel, string ArtifactPath, DateTimeOffset Created);

/// <summary>Finds models by id in the caller's view: base models are everyone's, fine-tuned models their project's only.</summary>
public sealed class ModelDirectory(TuningDbContext db, BaseModelCatalog catalog)
{
    public const string SystemOwner = "system";

    public async Task<IReadOnlyList<ModelEntry>> ListAsync(string projectId, CancellationToken ct)
    {
        var models = catalog.List().Select(FromBase).ToList();
        var records = await db.Models.AsNoTracking()
            .Where(m => m.ProjectId == projectId && m.DeletedAt == null)
            .OrderByDescending(m => m.CreatedAt).ToListAsync(ct);
        models.AddRange(records.Select(FromRecord));
        return models;
    }

    public async Task<ModelEntry?> FindAsync(string projectId, string id, CancellationToken ct)
    {
        if (catalog.Find(id) is { } baseModel) return FromBase(baseModel);
        var record = await FindRecordAsync(projectId, id, ct);
        if (record is not null) return FromRecord(record);
        return await FindCheckpointAsync(projectId, id, ct) is { } checkpoint
            ? new(checkpoint.Id, ModelKinds.Checkpoint, null, checkpoint.BaseModel, checkpoint.Created, projectId, null, null)
            : null;
    }

    /// <summary>A checkpoint of one of the project's jobs by its id (<c>ft:…:ckpt-step-N</c>), unless pruned: it is retrieved, downloaded and served like a model.</summary>
    public Task<CheckpointModel?> FindCheckpointAsync(string projectId, string id, CancellationToken ct) =>
        (from c in db.Checkpoints.AsNoTracking()
         join j in db.Jobs.AsNoTracking() on c.JobId equals j.Id
         where c.FineTunedModelCheckpoint == id && j.ProjectId == projectId && c.PrunedAt == null
         select new CheckpointModel(c.FineTunedModelCheckpoint, j.Model, c.ArtifactPath, c.CreatedAt)).FirstOrDefaultAsync(ct);

    public Task<ModelRecord?> FindRecordAsync(string projectId, string id, CancellationToken ct) =>
        db.Models.SingleOrDefaultAsync(m => m.Id == id && m.ProjectId == projectId && m.DeletedAt == null, ct);

    private static ModelEntry FromBase(BaseModelInfo m) =>
        new(m.Id, m.Kind, m.Architecture, null, m.Created, SystemOwner, m.Description, m.ParameterCount);

    private static ModelEntry FromRecord(ModelRecord m) =>
        new(m.Id, m.Kind, m.Architecture, m.BaseModel, m.CreatedAt, m.ProjectId, null, null);
}
