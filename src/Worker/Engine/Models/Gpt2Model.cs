using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TuningService.Worker.Engine.Models;

/// <summary>
/// GPT-2 (Radford et al. 2019) laid out like Hugging Face's GPT2LMHeadModel, so that
/// state-dict keys are the checkpoint's keys: transformer.wte, transformer.h.{i}.attn.c_attn, ...
/// The output head is tied to transformer.wte.
/// </summary>
public sealed class Gpt2Model : CausalLanguageModel
{
    private readonly Gpt2Decoder transformer;

    public Gpt2Model(ModelConfig config) : base(nameof(Gpt2Model), config)
    {
        transformer = new Gpt2Decoder(config);
        RegisterComponents();
    }

    public override Tensor HiddenStates(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null, KvCache? cache = null)
    {
        var (positions, mask) = PositionsAndMask(inputIds, attentionMask, positionIds, cache?.Length ?? 0);
        return transformer.Forward(inputIds, positions, mask, cache, GradientCheckpointing && cache is null); // (B, T, C)
    }

    public override Tensor Logits(Tensor hidden) => F.linear(hidden, transformer.TokenEmbedding); // (B, T, V), tied head

    public override (Tensor Weight, AdaptableLinear? Layer)? OutputHead => (transformer.TokenEmbedding, null);

    public override void InitializeWeights()
    {
        using var _ = no_grad();
        double projectionStd = 0.02 / Math.Sqrt(2 * Config.NumLayers); // residual projections scaled, as in GPT-2
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith(".bias")) p.zero_();
            else if (name.Contains(".ln_")) p.fill_(1.0);
            else if (name.EndsWith("c_proj.weight")) nn.init.normal_(p, 0, projectionStd);
            else nn.init.normal_(p, 0, 0.02);
        }
    }
}

internal sealed class Gpt2Decoder : nn.Module
{
    private readonly Embedding wte;
    private readonly Embedding wpe;
    private readonly ModuleList<Gpt2Block> h;
    private readonly LayerNorm ln_f;

    public Gpt2Decoder(ModelConfig config) : base(nameof(Gpt2Decoder))
    {
        wte = nn.Embedding(config.VocabSize, config.HiddenSize);
        wpe = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        h = new ModuleList<Gpt2Block>(Enumerable.Range(0, config.NumLayers).Select(i => new Gpt2Block(config, i)).ToArray());
        ln_f = nn.LayerNorm(config.HiddenSize, config.NormEps);
        RegisterComponents();
    }

    public Tensor TokenEmbedding => wte.weight!;

    public Tensor Forward(Tensor inputIds, Tensor positions, Tensor? mask, KvCache? cache, bool checkpoint)
    {
        var x = wte.forward(inputIds) + wpe.forward(positions); // (B, T, C)
        foreach (var block in h)
            x = checkpoint ? CheckpointedBlock.Run(input => block.Forward(input, mask, cache), x) : block.Forward(x, mask, cache);
        return ln_f.forward(x);
    }
}

internal sealed class Gpt2Block : nn.Module
{
    private readonly LayerNorm ln_1;
    private readonly Gpt2Attention attn;
    private readonly LayerNorm ln_2;
    private readonly Gpt2Mlp mlp;

    public Gpt2Block(ModelConfig config, int layer) : base(nameof(Gpt2Block))
    {
        ln_1 = nn.LayerNorm(config.HiddenSize, config.NormEps);
        attn = new Gpt2Attention(config, layer);
        ln_2 = nn.LayerNorm(config.HiddenSize, config.NormEps);
        mlp = new Gpt2Mlp(config);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor? mask, KvCache? cache)
    {
        x = x + attn.Forward(ln_1.forward(x), mask, cache);
        return x + mlp.forward(ln_2.forward(x));
    }
}

internal sealed class Gpt2Attention : nn.Module
{
    private readonly AdaptableLinear c_attn; // C -> 3C (q, k, v fused)
    private readonly AdaptableLinear c_proj;
    private readonly int heads;
    private readonly int layer;

    public Gpt2Attention(ModelConfig config, int layer) : base(nameof(Gpt2Attention))
    {
        c_attn = new AdaptableLinear(config.HiddenSize, 3 * config.HiddenSize, hasBias: true);
        c_proj = new AdaptableLinear(config.HiddenSize, config.HiddenSize, hasBias: true);
        heads = config.NumHeads;
        this.layer = layer;
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor? mask, KvCache? cache)
    {
        long b = x.shape[0], t = x.shape[1], c = x.shape[2];
        var qkv = c_attn.forward(x).split(c, 2);                     // 3 × (B, T, C)
        var q = qkv[0].view(b, t, heads, c / heads).transpose(1, 2); // (B, H, T, D)
        var k = qkv[1].view(b, t, heads, c / heads).transpose(1, 2);
        var v = qkv[2].view(b, t, heads, c / heads).transpose(1, 2);
        if (cache is not null) (k, v) = cache.Append(layer, k, v);  // (B, H, S, D)
        bool causal = mask is null && t > 1;                          // without a mask and t > 1, keys == queries
        var y = F.scaled_dot_product_attention(q, k, v, mask, 0.0, causal); // (B, H, T, D)
        return c_proj.forward(y.transpose(1, 2).reshape(b, t, c));
    }
}

internal sealed class Gpt2Mlp : nn.Module<Tensor, Tensor>
{
    private readonly AdaptableLinear c_fc;
    private readonly AdaptableLinear c_proj;

    public Gpt2Mlp(ModelConfig config) : base(nameof(Gpt2Mlp))
    {
        c_fc = new AdaptableLinear(config.HiddenSize, config.IntermediateSize, hasBias: true);
        c_proj = new AdaptableLinear(config.IntermediateSize, config.HiddenSize, hasBias: true);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => c_proj.forward(F.gelu(c_fc.forward(x), GELU.Approximate.tanh)); // (B, T, 4C) in between
}
