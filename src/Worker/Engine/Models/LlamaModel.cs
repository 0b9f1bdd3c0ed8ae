using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TuningService.Worker.Engine.Models;

/// <summary>
/// The Llama family (Llama 1-3, Mistral, Qwen2, SmolLM) laid out like Hugging Face's LlamaForCausalLM:
/// model.embed_tokens, model.layers.{i}.self_attn.q_proj, ..., model.norm, lm_head (absent when tied).
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

    public override Tensor Logits(Tensor hidden) => lm_head is null ? F.linear(hidden, model.TokenEmbedding) : lm_head.forward(hidden); // (B, T, V)

    public override void InitializeWeights()
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith(".bias")) p.zero_();
            else if (name.EndsWith("norm.weight")) p.fill_(1.0);
            else nn.init.normal_(p, 0, 0.02);
        }
    }
}

internal sealed class LlamaDecoder : nn.Module
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<LlamaBlock> layers;
    private readonly RmsNorm norm;
    private readonly float[] inverseFrequencies; // (D/2); an array, not a Tensor field, so it is not registered as a buffer

    public LlamaDecoder(ModelConfig config) : base(nameof(LlamaDecoder))
    {
        embed_tokens = nn.Embedding(config.VocabSize, config.HiddenSize);
        layers = new ModuleList<LlamaBlock>(Enumerable.Range(0, config.NumLayers).Select(i => new LlamaBlock(config, i)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.NormEps);
        int d = config.HeadDim;
        inverseFrequencies = Enumerable.Range(0, d / 2).Select(i => (float)(1.0 / Math.Pow(config.RopeTheta, 2.0 * i / d))).ToArray();
        RegisterComponents();
    }

    public Tensor TokenEmbedding => embed_tokens.weight!;

    public Tensor Forward(Tensor inputIds, Tensor positions, Tensor? mask, KvCache? cache, bool checkpoint)
    {
        var x = embed_tokens.forward(inputIds);                                          // (B, T, C)
        var freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * tensor(inverseFrequencies, device: x.device); // (B, T, D/2)
        var angles = cat([freqs, freqs], -1).unsqueeze(1);                                // (B, 1, T, D): HF rotate-half layout
        var rotary = (angles.cos().to(x.dtype), angles.sin().to(x.dtype));
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
    private readonly LlamaMlp mlp;

    public LlamaBlock(ModelConfig config, int layer) : base(nameof(LlamaBlock))
    {
        input_layernorm = new RmsNorm(config.HiddenSize, config.NormEps);
        self_attn = new LlamaAttention(config, layer);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.NormEps);
        mlp = new LlamaMlp(config);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, (Tensor Cos, Tensor Sin) rotary, Tensor? mask, KvCache? cache)
    {
        x = x + self_attn.Forward(input_layernorm.forward(x), rotary, mask, cache);
        return x + mlp.forward(post_attention_layernorm.forward(x));
    }
}

internal sealed class LlamaAttention : nn.Module
{
    private readonly AdaptableLinear q_proj;
    private readonly AdaptableLinear k_proj;
    private readonly AdaptableLinear v_proj;
    private readonly AdaptableLinear o_proj;
    private readonly int heads, kvHeads, headDim, layer;

    public LlamaAttention(ModelConfig config, int layer) : base(nameof(LlamaAttention))
    {
        heads = config.NumHeads;
        kvHeads = config.NumKeyValueHeads;
        headDim = config.HeadDim;
        this.layer = layer;
        q_proj = new AdaptableLinear(config.HiddenSize, heads * headDim, config.AttentionBias);
        k_proj = new AdaptableLinear(config.HiddenSize, kvHeads * headDim, config.AttentionBias);
        v_proj = new AdaptableLinear(config.HiddenSize, kvHeads * headDim, config.AttentionBias);
        o_proj = new AdaptableLinear(heads * headDim, config.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, (Tensor Cos, Tensor Sin) rotary, Tensor? mask, KvCache? cache)
    {
        long b = x.shape[0], t = x.shape[1];
        var q = q_proj.forward(x).view(b, t, heads, headDim).transpose(1, 2);   // (B, H, T, D)
        var k = k_proj.forward(x).view(b, t, kvHeads, headDim).transpose(1, 2); // (B, H_kv, T, D)
        var v = v_proj.forward(x).view(b, t, kvHeads, headDim).transpose(1, 2);
        q = q * rotary.Cos + RotateHalf(q) * rotary.Sin;
        k = k * rotary.Cos + RotateHalf(k) * rotary.Sin;
        if (cache is not null) (k, v) = cache.Append(layer, k, v);            // (B, H_kv, S, D)
        if (kvHeads != heads)
        {
            k = k.repeat_interleave(heads / kvHeads, 1);                        // (B, H, S, D)
            v = v.repeat_interleave(heads / kvHeads, 1);
        }
        bool causal = mask is null && t > 1;
        var y = F.scaled_dot_product_attention(q, k, v, mask, 0.0, causal);    // (B, H, T, D)
        return o_proj.forward(y.transpose(1, 2).reshape(b, t, heads * headDim));
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
    private readonly AdaptableLinear gate_proj;
    private readonly AdaptableLinear up_proj;
    private readonly AdaptableLinear down_proj;

    public LlamaMlp(ModelConfig config) : base(nameof(LlamaMlp))
    {
        gate_proj = new AdaptableLinear(config.HiddenSize, config.IntermediateSize, hasBias: false);
        up_proj = new AdaptableLinear(config.HiddenSize, config.IntermediateSize, hasBias: false);
        down_proj = new AdaptableLinear(config.IntermediateSize, config.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => down_proj.forward(F.silu(gate_proj.forward(x)) * up_proj.forward(x)); // SwiGLU, (B, T, I) inside
}
