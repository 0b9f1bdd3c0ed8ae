using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TuningService.Worker.Engine.Models;

/// <summary>
/// The Llama family (Llama 1-3.x, Mistral, Qwen2/2.5/3, SmolLM) laid out like Hugging Face's LlamaForCausalLM:
/// model.embed_tokens, model.layers.{i}.self_attn.q_proj, ..., model.norm, lm_head (absent when tied); Qwen3 adds
/// self_attn.q_norm / k_norm.
/// </summary>
public sealed class LlamaModel : CausalLanguageModel
{
    private readonly LlamaDecoder model;
    private readonly AdaptableLinear? lm_head;

    public LlamaModel(ModelConfig config) : base(nameof(LlamaModel), config)
    {
        model = new LlamaDecoder(config);
        if (!config.TieWordEmbeddings) lm_head = new AdaptableLinear(config.HiddenSize, config.VocabSize, hasBias: false);
        RegisterComponents();
    }

    public override Tensor HiddenStates(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null, KvCache? cache = null)
    {
        var (positions, mask) = PositionsAndMask(inputIds, attentionMask, positionIds, cache?.Length ?? 0);
        return model.Forward(inputIds, positions, mask, cache, GradientCheckpointing && cache is null); // (B, T, C)
    }

    public override Tensor Logits(Tensor hidden)
    {
        var logits = lm_head is null ? F.linear(hidden, model.TokenEmbedding) : lm_head.forward(hidden); // (B, T, V)
        return Config.FinalLogitSoftcap is double cap ? (logits / cap).tanh() * cap : logits;
    }

    public override (Tensor Weight, AdaptableLinear? Layer)? OutputHead =>
        Config.FinalLogitSoftcap is not null ? null : lm_head is null ? (model.TokenEmbedding, null) : (lm_head.Weight, lm_head);

    public override void InitializeWeights()
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith(".bias")) p.zero_();
            else if (name.EndsWith("norm.weight")) p.fill_(Config.GemmaBlock ? 0.0 : 1.0); // Gemma's norm weights are offsets from 1
            else nn.init.normal_(p, 0, 0.02);
        }
    }
}

internal sealed class LlamaDecoder : nn.Module
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<LlamaBlock> layers;
    private readonly RmsNorm norm;
    private readonly ModelConfig config;
    private readonly float[] inverseFrequencies; // (D/2); an array, not a Tensor field, so it is not registered as a buffer
    private readonly double attentionFactor;     // yarn scales cos and sin

    public LlamaDecoder(ModelConfig config) : base(nameof(LlamaDecoder))
    {
        embed_tokens = nn.Embedding(config.VocabSize, config.HiddenSize);
        layers = new ModuleList<LlamaBlock>(Enumerable.Range(0, config.NumLayers).Select(i => new LlamaBlock(config, i)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.NormEps, config.GemmaBlock);
        this.config = config;
        (inverseFrequencies, attentionFactor) = RotaryFrequencies.For(config, config.MaxPositionEmbeddings);
        RegisterComponents();
    }

    public Tensor TokenEmbedding => embed_tokens.weight!;

    public Tensor Forward(Tensor inputIds, Tensor positions, Tensor? mask, KvCache? cache, bool checkpoint)
    {
        var x = embed_tokens.forward(inputIds);                                          // (B, T, C)
        if (config.GemmaBlock) x = x * Math.Sqrt(config.HiddenSize);                    // Gemma scales embeddings by √C
        var (inverse, factor) = config.RopeScaling?.Type == "dynamic"
            ? RotaryFrequencies.For(config, positions.max().item<long>() + 1)              // CPU-GPU sync point, dynamic NTK only
            : (inverseFrequencies, attentionFactor);
        var freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * tensor(inverse, device: x.device); // (B, T, D/2)
        var angles = cat([freqs, freqs], -1).unsqueeze(1);                                // (B, 1, T, D): HF rotate-half layout
        var rotary = factor == 1.0 ? (angles.cos().to(x.dtype), angles.sin().to(x.dtype))
            : ((angles.cos() * factor).to(x.dtype), (angles.sin() * factor).to(x.dtype));
        foreach (var block in layers)
            x = checkpoint ? CheckpointedBlock.Run(input => block.Forward(input, rotary, mask, cache), x) : block.Forward(x, rotary, mask, cache);
        return norm.forward(x);
    }
}

internal sealed class LlamaBlock : nn.Module
{
    private readonly RmsNorm input_layernorm;
    private readonly LlamaAttention self_attn;
    private readonly RmsNorm post_attention_layernorm;
    private readonly RmsNorm? pre_feedforward_layernorm;   // Gemma 2's sandwich: post_attention_layernorm then norms the attention's output
    private readonly RmsNorm? post_feedforward_layernorm;
    private readonly LlamaMlp mlp;

    public LlamaBlock(ModelConfig config, int layer) : base(nameof(LlamaBlock))
    {
        bool gemma = config.GemmaBlock;
        input_layernorm = new RmsNorm(config.HiddenSize, config.NormEps, gemma);
        self_attn = new LlamaAttention(config, layer);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.NormEps, gemma);
        if (gemma)
        {
            pre_feedforward_layernorm = new RmsNorm(config.HiddenSize, config.NormEps, gemma);
            post_feedforward_layernorm = new RmsNorm(config.HiddenSize, config.NormEps, gemma);
        }
        mlp = new LlamaMlp(config);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, (Tensor Cos, Tensor Sin) rotary, Tensor? mask, KvCache? cache)
    {
        var attention = self_attn.Forward(input_layernorm.forward(x), rotary, mask, cache);
        if (pre_feedforward_layernorm is null || post_feedforward_layernorm is null)
        {
            x = x + attention;
            return x + mlp.forward(post_attention_layernorm.forward(x));
        }
        x = x + post_attention_layernorm.forward(attention);
        return x + post_feedforward_layernorm.forward(mlp.forward(pre_feedforward_layernorm.forward(x)));
    }
}

internal sealed class LlamaAttention : nn.Module
{
    private readonly AdaptableLinear? q_proj;
    private readonly AdaptableLinear? k_proj;
    private readonly AdaptableLinear? v_proj;
    private readonly AdaptableLinear? qkv_proj;   // Phi-3: q, k and v as one (H + 2 H_kv) D × C weight
    private readonly AdaptableLinear o_proj;
    private readonly RmsNorm? q_norm;
    private readonly RmsNorm? k_norm;
    private readonly int heads, kvHeads, headDim, layer;
    private readonly int? slidingWindow;
    private readonly double? softcap;
    private readonly double queryScale;  // multiplies q so that SDPA's 1/√D becomes 1/√query_pre_attn_scalar

    public LlamaAttention(ModelConfig config, int layer) : base(nameof(LlamaAttention))
    {
        heads = config.NumHeads;
        kvHeads = config.NumKeyValueHeads;
        headDim = config.HeadDim;
        this.layer = layer;
        if (config.FusedProjections) qkv_proj = new AdaptableLinear(config.HiddenSize, (heads + 2 * kvHeads) * headDim, config.AttentionBias);
        else
        {
            q_proj = new AdaptableLinear(config.HiddenSize, heads * headDim, config.AttentionBias);
            k_proj = new AdaptableLinear(config.HiddenSize, kvHeads * headDim, config.AttentionBias);
            v_proj = new AdaptableLinear(config.HiddenSize, kvHeads * headDim, config.AttentionBias);
        }
        o_proj = new AdaptableLinear(heads * headDim, config.HiddenSize, hasBias: false);
        if (config.QkNorm)
        {
            q_norm = new RmsNorm(headDim, config.NormEps);
            k_norm = new RmsNorm(headDim, config.NormEps);
        }
        slidingWindow = config.SlidingWindowOnEvenLayers && layer % 2 == 1 ? null : config.SlidingWindow;
        softcap = config.AttentionLogitSoftcap;
        queryScale = config.QueryPreAttentionScalar is double scalar ? Math.Sqrt(headDim / scalar) : 1.0;
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, (Tensor Cos, Tensor Sin) rotary, Tensor? mask, KvCache? cache)
    {
        long b = x.shape[0], t = x.shape[1];
        var (qx, kx, vx) = Project(x);
        var q = qx.view(b, t, heads, headDim);                                    // (B, T, H, D)
        var k = kx.view(b, t, kvHeads, headDim);                                  // (B, T, H_kv, D)
        if (q_norm is not null && k_norm is not null) (q, k) = (q_norm.forward(q), k_norm.forward(k)); // per head, before RoPE
        q = q.transpose(1, 2);                                                     // (B, H, T, D)
        k = k.transpose(1, 2);                                                     // (B, H_kv, T, D)
        var v = vx.view(b, t, kvHeads, headDim).transpose(1, 2);
        q = q * rotary.Cos + RotateHalf(q) * rotary.Sin;
        k = k * rotary.Cos + RotateHalf(k) * rotary.Sin;
        if (cache is not null) (k, v) = cache.Append(layer, k, v);            // (B, H_kv, S, D)
        if (kvHeads != heads)
        {
            k = k.repeat_interleave(heads / kvHeads, 1);                        // (B, H, S, D)
            v = v.repeat_interleave(heads / kvHeads, 1);
        }
        if (slidingWindow is int window && k.shape[2] > window) mask = WithinWindow(mask, t, k.shape[2], window, x.device);
        if (queryScale != 1.0) q = q * queryScale;
        var y = softcap is double cap ? SoftcappedAttention(q, k, v, mask, cap)
            : F.scaled_dot_product_attention(q, k, v, mask, 0.0, mask is null && t > 1); // (B, H, T, D)
        return o_proj.forward(y.transpose(1, 2).reshape(b, t, heads * headDim));
    }

    /// <summary>
    /// Gemma 2's attention, written out because the scores are soft-capped (cap · tanh(s / cap)) before the mask and
    /// softmax, which SDPA cannot do: (B, H, T, D) with keys and values (B, H, S, D); softmax in float32.
    /// </summary>
    private static Tensor SoftcappedAttention(Tensor q, Tensor k, Tensor v, Tensor? mask, double cap)
    {
        long t = q.shape[2], s = k.shape[2];
        var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(q.shape[3]);          // (B, H, T, S)
        scores = (scores / cap).tanh() * cap;
        var allowed = mask ?? (arange(s, device: q.device).unsqueeze(0) <= arange(s - t, s, device: q.device).unsqueeze(1)); // causal (T, S)
        scores = scores.masked_fill(allowed.logical_not(), double.NegativeInfinity);
        return scores.to(ScalarType.Float32).softmax(-1).to(q.dtype).matmul(v);
    }

    /// <summary>Queries (B, T, H·D), keys and values (B, T, H_kv·D): three projections, or one fused one split by columns.</summary>
    private (Tensor Q, Tensor K, Tensor V) Project(Tensor x)
    {
        if (qkv_proj is null) return (q_proj!.forward(x), k_proj!.forward(x), v_proj!.forward(x));
        var qkv = qkv_proj.forward(x);
        long q = heads * headDim, kv = kvHeads * headDim;
        return (qkv.narrow(-1, 0, q), qkv.narrow(-1, q, kv), qkv.narrow(-1, q + kv, kv));
    }

    /// <summary>
    /// Adds Mistral's sliding window to the mask (B or 1, 1, T, S): query i (at key index S − T + i) sees key j only when
    /// j is at most <paramref name="window"/> − 1 positions back, as transformers' sliding-window mask does.
    /// </summary>
    private static Tensor WithinWindow(Tensor? mask, long t, long s, int window, Device device)
    {
        var keys = arange(s, device: device).unsqueeze(0);                    // (1, S)
        var queries = arange(s - t, s, device: device).unsqueeze(1);          // (T, 1)
        var band = (keys <= queries) & (queries - keys < window);              // (T, S), causal too
        return mask is null ? band.unsqueeze(0).unsqueeze(0) : mask & band;
    }

    /// <summary>(x1, x2) -> (-x2, x1) over the two halves of the head dimension.</summary>
    private static Tensor RotateHalf(Tensor x)
    {
        var halves = x.chunk(2, -1);
        return cat([-halves[1], halves[0]], -1);
    }
}

internal sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
    private readonly AdaptableLinear? gate_proj;
    private readonly AdaptableLinear? up_proj;
    private readonly AdaptableLinear? gate_up_proj;  // Phi-3: gate and up as one 2I × C weight, gate first
    private readonly AdaptableLinear down_proj;
    private readonly bool gelu;                      // Gemma's GeGLU (gelu_pytorch_tanh) instead of SwiGLU

    public LlamaMlp(ModelConfig config) : base(nameof(LlamaMlp))
    {
        gelu = config.HiddenActivation is "gelu_pytorch_tanh" or "gelu_new";
        if (config.FusedProjections) gate_up_proj = new AdaptableLinear(config.HiddenSize, 2 * config.IntermediateSize, hasBias: false);
        else
        {
            gate_proj = new AdaptableLinear(config.HiddenSize, config.IntermediateSize, hasBias: false);
            up_proj = new AdaptableLinear(config.HiddenSize, config.IntermediateSize, hasBias: false);
        }
        down_proj = new AdaptableLinear(config.IntermediateSize, config.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    private Tensor Activate(Tensor gate) => gelu ? F.gelu(gate, GELU.Approximate.tanh) : F.silu(gate);

    public override Tensor forward(Tensor x)                                     // SwiGLU or GeGLU, (B, T, I) inside
    {
        if (gate_up_proj is null) return down_proj.forward(Activate(gate_proj!.forward(x)) * up_proj!.forward(x));
        var halves = gate_up_proj.forward(x).chunk(2, -1);
        return down_proj.forward(Activate(halves[0]) * halves[1]);
    }
}
