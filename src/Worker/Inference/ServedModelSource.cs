using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TuningService.Domain;
using TuningService.Domain.Models;
using TuningService.Domain.Persistence;
using TuningService.Worker.Engine;
using TuningService.Worker.Runtime;

namespace TuningService.Worker.Inference;

/// <summary>What serving a model id takes: a base model (by residency key and loader) and, for LoRA results, an adapter directory.</summary>
public sealed record ServedModelSource(string ModelId, string BaseKey, Func<LoadedModel> LoadBase, string? AdapterDirectory);

/// <summary>The model id names nothing this worker can generate with (unknown, or a reward model).</summary>
public sealed class ModelNotServableException(string message, string code) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>
/// Resolves a served model id: a preset or base checkpoint, a fine-tuned model (full weights, or a PEFT adapter on the
/// job's base), or a checkpoint id <c>ft:…:ckpt-step-N</c>. The Api has already checked that the caller may see it.
/// LoRA results keep their base's identity (preset and seed, or base model id), so adapters of one base share it.
/// </summary>
public sealed class ServedModelResolver(IDbContextFactory<TuningDbContext> dbFactory, ArtifactStore artifacts, JobModels models, IOptions<TuningOptions> options)
{
    public async Task<ServedModelSource> ResolveAsync(string modelId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Models.AsNoTracking().SingleOrDefaultAsync(m => m.Id == modelId && m.DeletedAt == null, ct) is { } record)
        {
            if (record.Kind == ModelKinds.RewardModel)
                throw new ModelNotServableException($"'{modelId}' is a reward model: it scores text and cannot generate.", "model_not_generative");
            var directory = artifacts.FullPath(record.ArtifactPath);
            var adapter = Path.Combine(directory, ModelRecord.AdapterDirectory);
            if (File.Exists(Path.Combine(adapter, "adapter_config.json")))
                return await OnJobBaseAsync(db, modelId, record.JobId, adapter, ct);
            return Full(modelId, directory);
        }
        var checkpoint = await db.Checkpoints.AsNoTracking()
            .SingleOrDefaultAsync(c => c.FineTunedModelCheckpoint == modelId && c.PrunedAt == null, ct);
        if (checkpoint is not null)
        {
            var directory = artifacts.FullPath(checkpoint.ArtifactPath);
            return File.Exists(Path.Combine(directory, "config.json"))
                ? Full(modelId, directory)
                : await OnJobBaseAsync(db, modelId, checkpoint.JobId, directory, ct);
        }
        if (ModelCatalog.FindBase(options.Value.ModelsRoot, modelId) is { } baseModel) return new(modelId, modelId, () => ModelLoader.Load(baseModel), null);
        throw new ModelNotServableException($"The model '{modelId}' does not exist.", "model_not_found");
    }

    private ServedModelSource Full(string modelId, string directory) =>
        new(modelId, "dir:" + directory, () => ModelLoader.LoadDirectory(modelId, directory), null);

    private async Task<ServedModelSource> OnJobBaseAsync(TuningDbContext db, string modelId, string jobId, string adapterDirectory, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId, ct);
        // A preset's weights come from the job's seed, so the seed is part of the base's identity.
        var key = ModelCatalog.Presets.Any(p => p.Id == job.Model) ? $"{job.Model}@seed{job.Seed}" : job.Model;
        return new(modelId, key, () => models.Load(job.ProjectId, job.Model, job.Seed), adapterDirectory);
    }
}
