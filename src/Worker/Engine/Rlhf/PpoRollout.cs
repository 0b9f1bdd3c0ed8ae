using TuningService.Worker.Engine.Generation;
using TuningService.Worker.Engine.Models;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Rlhf;

/// <summary>
/// Sampled sequences as one (B, Q + W) batch: each prompt left-padded to Q, its response right-padded to W.
/// Responses end at their first EOS (included); later positions are padding with mask 0.
/// </summary>
public sealed record RolloutBatch(Tensor InputIds, Tensor AttentionMask, Tensor ResponseMask, Tensor LastIndex, Tensor HasEos,
    int QueryLength, List<int[]> Responses)
{
    public static RolloutBatch Build(IReadOnlyList<int[]> queries, List<int[]> responses, int eosId, int padId, Device device, int? endOfTurnId = null)
    {
        int batch = queries.Count, q = queries.Max(p => p.Length), w = Math.Max(1, responses.Max(r => r.Length)), s = q + w;
        var ids = new long[batch * s];
        var mask = new long[batch * s];
        var responseMask = new float[batch * w];
        var last = new long[batch];
        var hasEos = new float[batch];
        Array.Fill(ids, padId);
        for (int b = 0; b < batch; b++)
        {
            int offset = q - queries[b].Length;
            for (int t = 0; t < queries[b].Length; t++) { ids[b * s + offset + t] = queries[b][t]; mask[b * s + offset + t] = 1; }
            for (int t = 0; t < responses[b].Length; t++) { ids[b * s + q + t] = responses[b][t]; mask[b * s + q + t] = 1; responseMask[b * w + t] = 1; }
            last[b] = q + Math.Max(1, responses[b].Length) - 1;
            hasEos[b] = responses[b].Length > 0 && (responses[b][^1] == eosId || responses[b][^1] == endOfTurnId) ? 1 : 0; // ended, not cut off
        }
        return new RolloutBatch(tensor(ids, [batch, s], ScalarType.Int64).to(device), tensor(mask, [batch, s], ScalarType.Int64).to(device),
            tensor(responseMask, [batch, w]).to(device), tensor(last, ScalarType.Int64).to(device), tensor(hasEos).to(device), q, responses);
    }

    /// <summary>Samples responses for <paramref name="queries"/> with the policy (temperature, no top-k/top-p).</summary>
    public static RolloutBatch Sample(CausalLanguageModel policy, IReadOnlyList<int[]> queries, PpoSettings settings, long seed, int eosId, int padId,
        int? endOfTurnId = null)
    {
        var options = new GenerationOptions { MaxNewTokens = settings.ResponseLength, Temperature = settings.Temperature, TopP = 1.0, StopAtEos = true, Seed = seed };
        var responses = TextGenerator.Generate(policy, queries, options with { EndOfTurnId = endOfTurnId }, eosId, padId);
        return Build(queries, responses, eosId, padId, policy.parameters().First().device, endOfTurnId);
    }

    /// <summary>Rows <paramref name="rows"/> of a (B, ...) tensor.</summary>
    public static Tensor Rows(Tensor t, Tensor rows) => t.index_select(0, rows);

    /// <summary>
    /// Log-probabilities (B, W) of the response tokens under <paramref name="model"/> with logits divided by the
    /// sampling temperature; position t of the response is predicted from position Q + t − 1.
    /// </summary>
    public static Tensor ResponseLogProbs(CausalLanguageModel model, Tensor ids, Tensor attentionMask, int queryLength, double temperature)
    {
        var hidden = model.HiddenStates(ids, attentionMask)[.., TensorIndex.Slice(queryLength - 1, -1)];          // (B, W, C)
        var logits = model.Logits(hidden).to(ScalarType.Float32) / (temperature + 1e-7);        // (B, W, V)
        return logits.log_softmax(-1).gather(-1, ids[.., queryLength..].unsqueeze(-1)).squeeze(-1); // (B, W)
    }

    /// <summary>Values (B, W) of the states before each response token.</summary>
    public static Tensor ResponseValues(RewardModel valueModel, Tensor ids, Tensor attentionMask, int queryLength)
        => valueModel.Values(ids, attentionMask)[.., TensorIndex.Slice(queryLength - 1, -1)].to(ScalarType.Float32);
}
