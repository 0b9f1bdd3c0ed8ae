using System.Text.Json;
using System.Text.Json.Nodes;
using TuningService.Domain.Models;
using TuningService.Worker.Engine.Models;

namespace TuningService.Worker.Engine.Checkpoints;

/// <summary>
/// Hugging Face <c>config.json</c> to and from <see cref="ModelConfig"/>. What the engine does not use is kept as read
/// and written back unchanged, so a fine-tuned checkpoint's config differs from its base's only where training does.
/// </summary>
public static class HfConfig
{
    public static ModelConfig Read(string directory)
    {
        var path = Path.Combine(directory, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"No config.json in {directory}.", path);
        var config = Parse(JsonNode.Parse(File.ReadAllText(path))!.AsObject());
        return config.NameOrPath is null ? config with { NameOrPath = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))) } : config;
    }

    public static ModelConfig Parse(JsonObject json)
    {
        using (var document = JsonDocument.Parse(json.ToJsonString()))
            if (CheckpointSupport.Unsupported(document.RootElement) is { } unsupported) throw new NotSupportedException(unsupported);
        var modelType = Str(json, "model_type")!;
        var dtype = Str(json, "torch_dtype") ?? Str(json, "dtype") ?? "float32";
        var nameOrPath = Str(json, "_name_or_path") is { Length: > 0 } name ? name : null;
        var source = json.ToJsonString();
        if (modelType == "gpt2")
        {
            int c = Int(json, "n_embd") ?? 768;
            return new ModelConfig
            {
                Architecture = ModelArchitecture.Gpt2, ModelType = "gpt2",
                VocabSize = Int(json, "vocab_size") ?? 50257, HiddenSize = c,
                NumLayers = Int(json, "n_layer") ?? 12, NumHeads = Int(json, "n_head") ?? 12, NumKeyValueHeads = Int(json, "n_head") ?? 12,
                IntermediateSize = Int(json, "n_inner") ?? 4 * c, MaxPositionEmbeddings = Int(json, "n_positions") ?? 1024,
                NormEps = Dbl(json, "layer_norm_epsilon") ?? 1e-5, TieWordEmbeddings = true,
                BosTokenId = TokenId(json, "bos_token_id"), EosTokenId = TokenId(json, "eos_token_id"), TorchDtype = dtype,
                NameOrPath = nameOrPath, SourceJson = source,
            }.Validate();
        }
        int heads = Int(json, "num_attention_heads") ?? 32, hidden = Int(json, "hidden_size") ?? 4096;
        bool gemma = modelType == "gemma2";
        return new ModelConfig
        {
            Architecture = ModelArchitecture.Llama, ModelType = modelType,
            VocabSize = Int(json, "vocab_size") ?? 32000, HiddenSize = hidden,
            NumLayers = Int(json, "num_hidden_layers") ?? 32, NumHeads = heads, NumKeyValueHeads = Int(json, "num_key_value_heads") ?? heads,
            IntermediateSize = Int(json, "intermediate_size") ?? 11008, MaxPositionEmbeddings = Int(json, "max_position_embeddings") ?? 2048,
            NormEps = Dbl(json, "rms_norm_eps") ?? 1e-6, RopeTheta = Dbl(json, "rope_theta") ?? 10000.0,
            RopeScaling = ReadRopeScaling(json),
            ExplicitHeadDim = Int(json, "head_dim") is int d && d != hidden / heads ? d : null,
            QkNorm = modelType == "qwen3",
            FusedProjections = modelType == "phi3",
            SlidingWindow = modelType is "mistral" or "phi3" or "gemma2" ? Int(json, "sliding_window") : null,
            SlidingWindowOnEvenLayers = gemma,
            GemmaBlock = gemma,
            HiddenActivation = Str(json, "hidden_activation") ?? Str(json, "hidden_act") ?? (gemma ? "gelu_pytorch_tanh" : "silu"),
            AttentionLogitSoftcap = gemma ? Dbl(json, "attn_logit_softcapping") : null,
            FinalLogitSoftcap = gemma ? Dbl(json, "final_logit_softcapping") : null,
            QueryPreAttentionScalar = gemma ? Dbl(json, "query_pre_attn_scalar") : null,
            TieWordEmbeddings = json["tie_word_embeddings"]?.GetValue<bool>() ?? gemma, // Gemma2Config ties by default
            AttentionBias = modelType == "qwen2" || (json["attention_bias"]?.GetValue<bool>() ?? false),
            BosTokenId = TokenId(json, "bos_token_id"), EosTokenId = TokenId(json, "eos_token_id"), TorchDtype = dtype,
            NameOrPath = nameOrPath, SourceJson = source,
        }.Validate();
    }

    public static void Write(string directory, ModelConfig config)
    {
        var json = config.SourceJson is { } source ? JsonNode.Parse(source)!.AsObject() : new JsonObject();
        void Set(string key, JsonNode? value) => json[key] = value;
        void Default(string key, JsonNode? value) { if (!json.ContainsKey(key)) json[key] = value; }
        if (config.Architecture == ModelArchitecture.Gpt2)
        {
            Default("architectures", new JsonArray("GPT2LMHeadModel"));
            Set("model_type", "gpt2");
            Set("vocab_size", config.VocabSize); Set("n_embd", config.HiddenSize); Set("n_layer", config.NumLayers);
            Set("n_head", config.NumHeads); Set("n_inner", config.IntermediateSize); Set("n_positions", config.MaxPositionEmbeddings);
            Default("n_ctx", config.MaxPositionEmbeddings); Set("layer_norm_epsilon", config.NormEps); Default("activation_function", "gelu_new");
            Default("resid_pdrop", 0.0); Default("embd_pdrop", 0.0); Default("attn_pdrop", 0.0); Default("initializer_range", 0.02);
            Default("scale_attn_weights", true); Set("tie_word_embeddings", true);
        }
        else
        {
            Default("architectures", new JsonArray(config.ModelType switch
            {
                "qwen2" => "Qwen2ForCausalLM", "qwen3" => "Qwen3ForCausalLM", "mistral" => "MistralForCausalLM", "phi3" => "Phi3ForCausalLM",
                "gemma2" => "Gemma2ForCausalLM",
                _ => "LlamaForCausalLM",
            }));
            Set("model_type", config.ModelType); Set("vocab_size", config.VocabSize); Set("hidden_size", config.HiddenSize);
            Set("intermediate_size", config.IntermediateSize); Set("num_hidden_layers", config.NumLayers);
            Set("num_attention_heads", config.NumHeads); Set("num_key_value_heads", config.NumKeyValueHeads);
            Set("max_position_embeddings", config.MaxPositionEmbeddings); Set("rms_norm_eps", config.NormEps);
            Set("rope_theta", config.RopeTheta); Default("hidden_act", "silu"); Set("tie_word_embeddings", config.TieWordEmbeddings);
            Set("attention_bias", config.AttentionBias); Default("initializer_range", 0.02);
            if (config.ExplicitHeadDim is int headDim) Set("head_dim", headDim);
            if (config.RopeScaling is null) Default("rope_scaling", null);
            if (config.ModelType is "mistral" or "phi3" or "gemma2") Default("sliding_window", config.SlidingWindow);
        }
        if (config.BosTokenId is int bos) Default("bos_token_id", bos);
        if (config.EosTokenId is int eos) Default("eos_token_id", eos);
        Set("torch_dtype", config.TorchDtype);
        Default("use_cache", true);
        if (config.NameOrPath is { } name) Default("_name_or_path", name);
        File.WriteAllText(Path.Combine(directory, "config.json"), json.ToJsonString(new() { WriteIndented = true }));
    }

    /// <summary><c>rope_scaling</c> as transformers reads it (<c>rope_type</c>, or <c>type</c> in older configs); null for plain RoPE.</summary>
    private static RopeScaling? ReadRopeScaling(JsonObject json)
    {
        if (json["rope_scaling"] is not JsonObject s) return null;
        var type = Str(s, "rope_type") ?? Str(s, "type") ?? "default";
        if (type == "default") return null;
        return new RopeScaling(type, Dbl(s, "factor") ?? 1.0, Int(s, "original_max_position_embeddings"), Dbl(s, "low_freq_factor"),
            Dbl(s, "high_freq_factor"), Dbl(s, "beta_fast"), Dbl(s, "beta_slow"), Dbl(s, "attention_factor"));
    }

    private static string? Str(JsonObject j, string key) => j[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    private static int? Int(JsonObject j, string key) => j[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;
    private static double? Dbl(JsonObject j, string key) => j[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    /// <summary>A token id that may be written as a number or a list (Llama 3 instruct); the first is used.</summary>
    private static int? TokenId(JsonObject j, string key) => j[key] switch
    {
        JsonArray a when a.Count > 0 => a[0]!.GetValue<int>(),
        JsonValue v when v.TryGetValue<int>(out var i) => i,
        _ => null,
    };
}
