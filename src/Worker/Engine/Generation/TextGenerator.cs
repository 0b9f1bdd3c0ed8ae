using TorchSharp;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Tokenization;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Generation;

/// <summary>How to pick tokens. Temperature 0 is greedy decoding.</summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 64;
    public double Temperature { get; init; } = 0.0;
    /// <summary>Nucleus sampling: keep the smallest set of tokens whose probability reaches TopP.</summary>
    public double TopP { get; init; } = 1.0;
    public bool StopAtEos { get; init; } = true;
    /// <summary>A chat template's end-of-turn token (Llama 3's &lt;|eot_id|&gt;, Gemma's &lt;end_of_turn&gt;), which ends a response like EOS.</summary>
    public int? EndOfTurnId { get; init; }
    /// <summary>Seed of the sampling generator (null: the global torch generator).</summary>
    public long? Seed { get; init; }
}

/// <summary>
/// Autoregressive decoding with a KV cache. Prompts of different lengths are batched with left padding:
/// the attention mask hides the pads and position ids count real tokens only, so each row decodes as if alone.
/// </summary>
public static class TextGenerator
{
    public static string Generate(CausalLanguageModel model, TextTokenizer tokenizer, string prompt, GenerationOptions options)
    {
        var promptIds = tokenizer.Encode(prompt);
        if (tokenizer.AddBos && tokenizer.BosId is int bos) promptIds = [bos, .. promptIds];
        var ids = Generate(model, [promptIds], options, tokenizer.EosId, tokenizer.PadId)[0];
        return tokenizer.Decode(ids.Where(id => id != tokenizer.EosId));
    }

    /// <summary>New token ids per prompt (EOS included when generated; nothing after it).</summary>
    public static List<int[]> Generate(CausalLanguageModel model, IReadOnlyList<int[]> prompts, GenerationOptions options, int eosId, int padId)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var device = model.parameters().First().device;
            int batch = prompts.Count, length = prompts.Max(p => p.Length);
            var ids = new long[batch * length];
            var mask = new long[batch * length];
            for (int b = 0; b < batch; b++)
            {
                int offset = length - prompts[b].Length; // left padding
                for (int t = 0; t < length; t++)
                {
                    ids[b * length + t] = t < offset ? padId : prompts[b][t - offset];
                    mask[b * length + t] = t < offset ? 0 : 1;
                }
            }
            var input = tensor(ids, [batch, length], ScalarType.Int64).to(device);
            var attention = tensor(mask, [batch, length], ScalarType.Int64).to(device);
            using var cache = new KvCache(model.Config.NumLayers);
            var generator = options.Seed is long seed ? new Generator((ulong)seed, device) : null;
            var outputs = Enumerable.Range(0, batch).Select(_ => new List<int>()).ToArray();
            var finished = new bool[batch];
            for (int step = 0; step < options.MaxNewTokens; step++)
            {
                using var stepScope = NewDisposeScope();
                var hidden = model.HiddenStates(input, attention, null, cache);   // (B, T, C)
                var logits = model.Logits(hidden[.., -1]).to(ScalarType.Float32); // (B, V): only the last position
                var next = PickTokens(logits, options, generator);                 // (B)
                var chosen = next.cpu().data<long>().ToArray();                    // sync point, once per token
                for (int b = 0; b < batch; b++)
                {
                    if (finished[b]) continue;
                    outputs[b].Add((int)chosen[b]);
                    if (options.StopAtEos && (chosen[b] == eosId || chosen[b] == options.EndOfTurnId)) finished[b] = true;
                }
                if (finished.All(f => f)) break;
                input = stepScope.MoveToOuter(next.unsqueeze(1));                  // (B, 1)
                attention = stepScope.MoveToOuter(cat([attention, ones(batch, 1, ScalarType.Int64, device)], 1));
            }
            return outputs.Select(o => o.ToArray()).ToList();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static Tensor PickTokens(Tensor logits, GenerationOptions options, Generator? generator)
    {
        if (options.Temperature <= 0) return logits.argmax(-1);
        var probs = (logits / options.Temperature).softmax(-1);                  // (B, V)
        if (options.TopP < 1.0)
        {
            var (sorted, indices) = probs.sort(-1, descending: true);
            var outside = (sorted.cumsum(-1) - sorted) > options.TopP;            // tokens after the nucleus is full
            sorted = sorted.masked_fill(outside, 0);
            probs = zeros_like(probs).scatter_(-1, indices, sorted);
        }
        return multinomial(probs / probs.sum(-1, keepdim: true), 1, generator: generator).squeeze(-1);
    }
}
