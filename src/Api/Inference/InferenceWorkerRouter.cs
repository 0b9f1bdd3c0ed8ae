using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TuningService.Domain.Inference;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Inference;

/// <summary>Live inference workers for a model, best first: those with the model resident, then the rest, each group shuffled.</summary>
public sealed class InferenceWorkerRouter(TuningDbContext db, IOptions<InferenceRoutingOptions> options)
{
    public async Task<IReadOnlyList<InferenceWorker>> CandidatesAsync(string modelId, CancellationToken ct)
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-options.Value.LivenessSeconds);
        var live = await db.InferenceWorkers.AsNoTracking().Where(w => w.HeartbeatAt >= since).ToListAsync(ct);
        return live.OrderByDescending(w => w.ResidentModels.Contains(modelId)).ThenBy(_ => Random.Shared.Next()).ToList();
    }
}
