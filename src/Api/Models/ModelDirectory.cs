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
        return record is null ? null : FromRecord(record);
    }

    public Task<ModelRecord?> FindRecordAsync(string projectId, string id, CancellationToken ct) =>
        db.Models.SingleOrDefaultAsync(m => m.Id == id && m.ProjectId == projectId && m.DeletedAt == null, ct);

    private static ModelEntry FromBase(BaseModelInfo m) =>
        new(m.Id, m.Kind, m.Architecture, null, m.Created, SystemOwner, m.Description, m.ParameterCount);

    private static ModelEntry FromRecord(ModelRecord m) =>
        new(m.Id, m.Kind, m.Architecture, m.BaseModel, m.CreatedAt, m.ProjectId, null, null);
}
