namespace TuningService.Worker.Engine.Models;

/// <summary>The two families of decoder-only transformers the engine implements.</summary>
public enum ModelArchitecture
{
    /// <summary>GPT-2: learned positions, LayerNorm, GELU-tanh MLP, tied head.</summary>
    Gpt2,
    /// <summary>Llama family (Llama 2/3.x, Mistral, Qwen2/2.5/3, SmolLM): RMSNorm, rotary positions, SwiGLU, grouped-query attention.</summary>
    Llama,
}

/// <summary>
/// Shape of a causal language model, in the vocabulary of Hugging Face <c>config.json</c>.
/// Immutable; saved with every checkpoint.
/// </summary>
public sealed record ModelConfig
{
    public ModelArchitecture Architecture { get; init; } = ModelArchitecture.Gpt2;
    /// <summary>Hugging Face <c>model_type</c>: gpt2, llama, mistral, qwen2, qwen3, phi3, gemma2.</summary>
    public string ModelType { get; init; } = "gpt2";
    public int VocabSize { get; init; } = 50257;
    /// <summary>Width of the residual stream (C).</summary>
    public int HiddenSize { get; init; } = 768;
    public int NumLayers { get; init; } = 12;
    public int NumHeads { get; init; } = 12;
    /// <summary>Key/value heads; fewer than <see cref="NumHeads"/> means grouped-query attention.</summary>
    public int NumKeyValueHeads { get; init; } = 12;
    /// <summary>Width of the MLP's hidden layer (GPT-2: 4C).</summary>
    public int IntermediateSize { get; init; } = 3072;
    /// <summary>Longest sequence (GPT-2: size of the learned position table).</summary>
    public int MaxPositionEmbeddings { get; init; } = 1024;
    /// <summary>Epsilon of LayerNorm (GPT-2) or RMSNorm (Llama).</summary>
    public double NormEps { get; init; } = 1e-5;
    /// <summary>Rotary base frequency (Llama family only).</summary>
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary>config.json <c>rope_scaling</c> (Llama 3.1/3.2's llama3, linear, dynamic, yarn); null for plain RoPE.</summary>
    public RopeScaling? RopeScaling { get; init; }
    /// <summary>Width of one attention head when the config gives it (Qwen3: 128 with hidden 1024 and 16 heads); else C / H.</summary>
    public int? ExplicitHeadDim { get; init; }
    /// <summary>Phi-3's fused projections: self_attn.qkv_proj and mlp.gate_up_proj instead of q/k/v and gate/up.</summary>
    public bool FusedProjections { get; init; }
    /// <summary>RMSNorm on each head's queries and keys before RoPE (Qwen3's q_norm / k_norm).</summary>
    public bool QkNorm { get; init; }
    /// <summary>Each position attends to at most this many positions, itself included (Mistral's sliding_window); null = all.</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>The sliding window applies to even layers only, the others attend globally (Gemma 2).</summary>
    public bool SlidingWindowOnEvenLayers { get; init; }
    /// <summary>Gemma 2's block: embeddings × √C, RMSNorm weights stored as offsets from 1, and a norm after attention and after the MLP too.</summary>
    public bool GemmaBlock { get; init; }
    /// <summary>The MLP's gate activation: silu (SwiGLU) or gelu_pytorch_tanh (Gemma's GeGLU).</summary>
    public string HiddenActivation { get; init; } = "silu";
    /// <summary>Attention scores are cap · tanh(score / cap) (Gemma 2: 50); null = none.</summary>
    public double? AttentionLogitSoftcap { get; init; }
    /// <summary>Output logits are cap · tanh(logit / cap) (Gemma 2: 30); null = none.</summary>
    public double? FinalLogitSoftcap { get; init; }
    /// <summary>Scores are scaled by this^−½ instead of D^−½ (Gemma 2's query_pre_attn_scalar); null = D.</summary>
    public double? QueryPreAttentionScalar { get; init; }
    /// <summary>Output head shares the token embedding matrix.</summary>
    public bool TieWordEmbeddings { get; init; } = true;
    /// <summary>q/k/v projections carry a bias (Qwen2).</summary>
    public bool AttentionBias { get; init; }
    public int? BosTokenId { get; init; } = 50256;
    public int? EosTokenId { get; init; } = 50256;
    /// <summary>Dtype the weights are saved in: float32, float16 or bfloat16.</summary>
    public string TorchDtype { get; init; } = "float32";
    /// <summary>
    /// The checkpoint's own Hugging Face name (config.json <c>_name_or_path</c>, else its folder's name); null for the
    /// presets, which have none. PEFT adapters name it as their base.
    /// </summary>
    public string? NameOrPath { get; init; }
    /// <summary>The config.json this was read from, so a saved checkpoint writes back every field the engine does not use.</summary>
    public string? SourceJson { get; init; }

    /// <summary>Width of one attention head (D).</summary>
    public int HeadDim => ExplicitHeadDim ?? HiddenSize / NumHeads;

    /// <summary>Number of trainable parameters, by formula (tied weights counted once); allocates nothing.</summary>
    public long ParameterCount()
    {
        long c = HiddenSize, v = VocabSize, l = NumLayers, i = IntermediateSize;
        if (Architecture == ModelArchitecture.Gpt2)
        {
            long block = 2 * c + (c * 3 * c + 3 * c) + (c * c + c) + 2 * c + (c * i + i) + (i * c + c);
            return v * c + (long)MaxPositionEmbeddings * c + l * block + 2 * c;
        }
        long q = (long)NumHeads * HeadDim, kv = (long)NumKeyValueHeads * HeadDim;
        long attention = c * q + 2 * c * kv + q * c + (AttentionBias ? q + 2 * kv : 0);
        long llamaBlock = c + attention + (QkNorm ? 2L * HeadDim : 0) + c + 3 * c * i + (GemmaBlock ? 2 * c : 0);
        return v * c + l * llamaBlock + c + (TieWordEmbeddings ? 0 : v * c);
    }

    /// <summary>Checks the invariants the model code relies on; throws with the offending field named.</summary>
    public ModelConfig Validate()
    {
        if (ExplicitHeadDim is null && HiddenSize % NumHeads != 0) throw new ArgumentException($"hidden_size {HiddenSize} is not divisible by num_attention_heads {NumHeads}.");
        if (NumHeads % NumKeyValueHeads != 0) throw new ArgumentException($"num_attention_heads {NumHeads} is not divisible by num_key_value_heads {NumKeyValueHeads}.");
        if (Architecture == ModelArchitecture.Gpt2 && (NumKeyValueHeads != NumHeads || !TieWordEmbeddings))
            throw new ArgumentException("GPT-2 has one key/value head per query head and a tied head.");
        return this;
    }
}

/// <summary>
/// config.json <c>rope_scaling</c>: how rotary frequencies are stretched past the pretraining context. Fields as
/// transformers names them; those a type does not use are null.
/// </summary>
public sealed record RopeScaling(
    string Type,
    double Factor,
    int? OriginalMaxPositionEmbeddings = null,
    double? LowFreqFactor = null,
    double? HighFreqFactor = null,
    double? BetaFast = null,
    double? BetaSlow = null,
    double? AttentionFactor = null);
