using TuningService.Domain.Models;

namespace TuningService.Api.Inference;

/// <summary>What a generation request may name: any model the caller's project sees (checkpoint ids included).</summary>
public sealed class ModelVisibility(ModelCatalog catalog)
{
    public enum Verdict { Generative, NotFound, NotGenerative }

    public async Task<Verdict> CheckAsync(string projectId, string modelId, CancellationToken ct) =>
        await catalog.FindAsync(projectId, modelId, ct) switch
        {
            null => Verdict.NotFound,
            { Kind: ModelKinds.RewardModel } => Verdict.NotGenerative,
            _ => Verdict.Generative,
        };
}
