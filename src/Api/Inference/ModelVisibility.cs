using Microsoft.EntityFrameworkCore;
using TuningService.Api.Models;
using TuningService.Domain.Models;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Inference;

/// <summary>What a generation request may name: any model the caller's project sees, or one of its jobs' checkpoints.</summary>
public sealed class ModelVisibility(ModelDirectory directory, TuningDbContext db)
{
    public enum Verdict { Generative, NotFound, NotGenerative }

    public async Task<Verdict> CheckAsync(string projectId, string modelId, CancellationToken ct)
    {
        if (await directory.FindAsync(projectId, modelId, ct) is { } entry)
            return entry.Kind == ModelKinds.RewardModel ? Verdict.NotGenerative : Verdict.Generative;
        var checkpoint = await (from c in db.Checkpoints.AsNoTracking()
                                join j in db.Jobs.AsNoTracking() on c.JobId equals j.Id
                                where c.FineTunedModelCheckpoint == modelId && j.ProjectId == projectId && c.PrunedAt == null
                                select c.Id).FirstOrDefaultAsync(ct);
        return checkpoint is null ? Verdict.NotFound : Verdict.Generative;
    }
}
