using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Persistence;

namespace TuningService.Domain.Models;

/// <summary>
/// A model id as a project sees it: a base preset, a base checkpoint under ModelsRoot, or one of its own models
/// (fine-tuned, reward model, checkpoint). <see cref="Directory"/> is where its files are (null for presets).
/// </summary>
public sealed record ModelEntry(
    string Id, string Kind, string? Architecture, string? BaseModel, DateTimeOffset Created, string OwnedBy,
    string? Description, long? ParameterCount, string? Directory)
{
    /// <summary>Owner of the base models, which every project sees.</summary>
    public const string SystemOwner = "system";

    public bool IsBase => Kind is BaseModelKinds.Preset or BaseModelKinds.Checkpoint;
}

/// <summary>A job's checkpoint as a model, with the job that wrote it (a LoRA checkpoint holds only the adapter for that job's base).</summary>
public sealed record CheckpointModel(ModelEntry Model, Jobs.TrainingJob Job);

/// <summary>
/// The one catalogue of model ids, read by the API (listing, retrieval, downloads, job checks) and the worker
/// (what a job starts from): the built-in presets (random init, no download), every folder under ModelsRoot holding
/// a <c>config.json</c> (id = folder name, architecture = its <c>model_type</c>; presets win a name clash), and
/// the models a project's jobs produced (their rows, files under ArtifactsRoot). Base models are everyone's; produced
/// models are their project's only. Listing order: presets, checkpoint folders by name, produced models newest first.
/// </summary>
public sealed class ModelCatalog(TuningDbContext db, string modelsRoot, string artifactsRoot)
{
    /// <summary>GPT-2 BPE vocabulary size; every preset uses the GPT-2 tokenizer.</summary>
    public const int Gpt2VocabSize = 50257;

    private static readonly DateTimeOffset PresetsCreated = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public ModelCatalog(TuningDbContext db, TuningOptions options) : this(db, options.ModelsRoot, options.ArtifactsRoot) { }

    public static IReadOnlyList<BaseModelPreset> Presets { get; } =
    [
        new("tiny-gpt2", "gpt2", "Tiny GPT-2 (2 layers, 64 wide, 4 heads, 512 context), random init, GPT-2 tokenizer. For tests and demos.",
            VocabSize: Gpt2VocabSize, ContextLength: 512, NLayer: 2, NEmbd: 64, NHead: 4, NKvHead: 4, IntermediateSize: 256, TieWordEmbeddings: true),
        new("tiny-llama", "llama", "Tiny Llama (2 layers, 64 wide, 4 heads / 2 KV heads, SwiGLU 176, RoPE, RMSNorm, 2048 context), random init, GPT-2 tokenizer.",
            VocabSize: Gpt2VocabSize, ContextLength: 2048, NLayer: 2, NEmbd: 64, NHead: 4, NKvHead: 2, IntermediateSize: 176, TieWordEmbeddings: true),
        new("gpt2-124m-random", "gpt2", "GPT-2 small shape (12 layers, 768 wide, 124M parameters), random init, GPT-2 tokenizer. For benchmarks and GPU smoke runs.",
            VocabSize: Gpt2VocabSize, ContextLength: 1024, NLayer: 12, NEmbd: 768, NHead: 12, NKvHead: 12, IntermediateSize: 3072, TieWordEmbeddings: true),
    ];

    public static BaseModelPreset? FindPreset(string id) => Presets.FirstOrDefault(p => p.Id == id);

    public string ModelsRoot { get; } = Path.GetFullPath(modelsRoot);

    public string ArtifactsRoot { get; } = Path.GetFullPath(artifactsRoot);

    /// <summary>Every model <paramref name="projectId"/> sees, in listing order.</summary>
    public async Task<IReadOnlyList<ModelEntry>> ListAsync(string projectId, CancellationToken ct = default)
    {
        var models = ListBase(ModelsRoot).ToList();
        var records = await db.Models.AsNoTracking()
            .Where(m => m.ProjectId == projectId && m.DeletedAt == null)
            .OrderByDescending(m => m.CreatedAt).ToListAsync(ct);
        models.AddRange(records.Select(FromRecord));
        return models;
    }

    /// <summary>What <paramref name="id"/> names for <paramref name="projectId"/>, or null (another project's model is not found).</summary>
    public async Task<ModelEntry?> FindAsync(string projectId, string id, CancellationToken ct = default)
    {
        if (FindBase(ModelsRoot, id) is { } baseModel) return baseModel;
        var record = await db.Models.AsNoTracking().SingleOrDefaultAsync(Produced(projectId, id), ct);
        return record is not null ? FromRecord(record) : (await FindCheckpointAsync(projectId, id, ct))?.Model;
    }

    /// <summary>
    /// A checkpoint (<c>ft:…:ckpt-step-N</c>) of one of the project's jobs, unless pruned: it is retrieved, downloaded,
    /// served and trained from like a model. Its <see cref="ModelEntry.BaseModel"/> is the root base of its job's model.
    /// </summary>
    public async Task<CheckpointModel?> FindCheckpointAsync(string projectId, string id, CancellationToken ct = default)
    {
        var found = await CheckpointsOf(db, projectId, id).FirstOrDefaultAsync(ct);
        if (found is null) return null;
        var model = new ModelEntry(id, ModelKinds.Checkpoint, null, RecordedBase(db, projectId, found.Job.Model) ?? found.Job.Model,
            found.Checkpoint.CreatedAt, projectId, null, null, Path.Combine(ArtifactsRoot, found.Checkpoint.ArtifactPath));
        return new CheckpointModel(model, found.Job);
    }

    /// <summary>
    /// The root base recorded for a model <paramref name="projectId"/> produced (its row's base), or for one of its jobs'
    /// checkpoints (the root base of that job's model); null when <paramref name="id"/> names neither. Names never nest.
    /// </summary>
    public static string? RecordedBase(TuningDbContext db, string projectId, string id)
    {
        if (db.Models.AsNoTracking().Where(Produced(projectId, id)).Select(m => m.BaseModel).SingleOrDefault() is { } recorded) return recorded;
        var jobModel = CheckpointsOf(db, projectId, id).Select(c => c.Job.Model).FirstOrDefault();
        return jobModel is null ? null : RecordedBase(db, projectId, jobModel) ?? jobModel;
    }

    private static IQueryable<CheckpointOfJob> CheckpointsOf(TuningDbContext db, string projectId, string id) =>
        from c in db.Checkpoints.AsNoTracking()
        join j in db.Jobs.AsNoTracking() on c.JobId equals j.Id
        where c.FineTunedModelCheckpoint == id && j.ProjectId == projectId && c.PrunedAt == null
        select new CheckpointOfJob(c, j);

    private sealed record CheckpointOfJob(Jobs.JobCheckpoint Checkpoint, Jobs.TrainingJob Job);

    /// <summary>The row of a model <paramref name="projectId"/> produced, tracked (to delete it), or null.</summary>
    public Task<ModelRecord?> FindRecordAsync(string projectId, string id, CancellationToken ct = default) =>
        db.Models.SingleOrDefaultAsync(Produced(projectId, id), ct);

    /// <summary>The base models: presets, then checkpoint folders under <paramref name="modelsRoot"/> by name.</summary>
    public static IReadOnlyList<ModelEntry> ListBase(string modelsRoot)
    {
        var models = Presets.Select(FromPreset).ToList();
        if (!System.IO.Directory.Exists(modelsRoot)) return models;
        foreach (var dir in System.IO.Directory.EnumerateDirectories(modelsRoot).Order(StringComparer.Ordinal))
            if (BaseCheckpointFolder.Read(dir) is { } model && FindPreset(model.Id) is null) models.Add(model);
        return models;
    }

    /// <summary>A preset or a checkpoint folder directly under <paramref name="modelsRoot"/>; an id never walks out of it.</summary>
    public static ModelEntry? FindBase(string modelsRoot, string id)
    {
        if (FindPreset(id) is { } preset) return FromPreset(preset);
        if (id.Length == 0 || id.IndexOfAny(['/', '\\', ':']) >= 0 || id is "." or "..") return null;
        return BaseCheckpointFolder.Read(Path.Combine(modelsRoot, id));
    }

    private static Expression<Func<ModelRecord, bool>> Produced(string projectId, string id) =>
        m => m.Id == id && m.ProjectId == projectId && m.DeletedAt == null;

    private static ModelEntry FromPreset(BaseModelPreset p) =>
        new(p.Id, BaseModelKinds.Preset, p.Architecture, null, PresetsCreated, ModelEntry.SystemOwner, p.Description, p.ParameterCount, null);

    private ModelEntry FromRecord(ModelRecord m) =>
        new(m.Id, m.Kind, m.Architecture, m.BaseModel, m.CreatedAt, m.ProjectId, null, null, Path.Combine(ArtifactsRoot, m.ArtifactPath));
}
