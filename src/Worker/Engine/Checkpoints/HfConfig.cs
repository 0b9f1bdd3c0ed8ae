using System.Text.Json.Nodes;
using TuningService.Worker.Engine.Models;

namespace TuningService.Worker.Engine.Checkpoints;

/// <summary>Hugging Face <c>config.json</c> to and from <see cref="ModelConfig"/>.</summary>
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
        var modelType = Str(json, "model_type") ?? throw new NotSupportedException("config.json has no model_type.");
        var dtype = Str(json, "torch_dtype") ?? Str(json, "dtype") ?? "float32";
        var nameOrPath = Str(json, "_name_or_path") is { Length: > 0 } name ? name : null;
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
                BosTokenId = TokenId(json, "bos_token_id"), EosTokenId = TokenId(json, "eos_token_id"), TorchDtype = dtype, NameOrPath = nameOrPath,
            }.Validate();
        }
        if (modelType is not ("llama" or "mistral" or "qwen2"))
            throw new NotSupportedException($"model_type '{modelType}' is not supported; supported: gpt2, llama, mistral, qwen2.");
        if (json["rope_scaling"] is JsonObject scaling)
            throw new NotSupportedException($"rope_scaling '{scaling["rope_type"] ?? scaling["type"]}' is not supported yet.");
        int heads = Int(json, "num_attention_heads") ?? 32;
        var config = new ModelConfig
        {
            Architecture = ModelArchitecture.Llama, ModelType = modelType,
            VocabSize = Int(json, "vocab_size") ?? 32000, HiddenSize = Int(json, "hidden_size") ?? 4096,
            NumLayers = Int(json, "num_hidden_layers") ?? 32, NumHeads = heads, NumKeyValueHeads = Int(json, "num_key_value_heads") ?? heads,
            IntermediateSize = Int(json, "intermediate_size") ?? 11008, MaxPositionEmbeddings = Int(json, "max_position_embeddings") ?? 2048,
            NormEps = Dbl(json, "rms_norm_eps") ?? 1e-6, RopeTheta = Dbl(json, "rope_theta") ?? 10000.0,
            TieWordEmbeddings = json["tie_word_embeddings"]?.GetValue<bool>() ?? false,
            AttentionBias = modelType == "qwen2" || (json["attention_bias"]?.GetValue<bool>() ?? false),
            BosTokenId = TokenId(json, "bos_token_id"), EosTokenId = TokenId(json, "eos_token_id"), TorchDtype = dtype, NameOrPath = nameOrPath,
        };
        if (json["head_dim"] is JsonNode hd && hd.GetValue<int>() != config.HeadDim)
            throw new NotSupportedException("head_dim different from hidden_size / num_attention_heads is not supported.");
        return config.Validate();
    }

    public static void Write(string directory, ModelConfig config)
    {
        JsonObject json;
        if (config.Architecture == ModelArchitecture.Gpt2)
        {
            json = new JsonObject
            {
                ["architectures"] = new JsonArray("GPT2LMHeadModel"), ["model_type"] = "gpt2",
                ["vocab_size"] = config.VocabSize, ["n_embd"] = config.HiddenSize, ["n_layer"] = config.NumLayers,
                ["n_head"] = config.NumHeads, ["n_inner"] = config.IntermediateSize, ["n_positions"] = config.MaxPositionEmbeddings,
                ["n_ctx"] = config.MaxPositionEmbeddings, ["layer_norm_epsilon"] = config.NormEps, ["activation_function"] = "gelu_new",
                ["resid_pdrop"] = 0.0, ["embd_pdrop"] = 0.0, ["attn_pdrop"] = 0.0, ["initializer_range"] = 0.02,
                ["scale_attn_weights"] = true, ["tie_word_embeddings"] = true,
            };
        }
        else
        {
            json = new JsonObject
            {
                ["architectures"] = new JsonArray(config.ModelType switch { "qwen2" => "Qwen2ForCausalLM", "mistral" => "MistralForCausalLM", _ => "LlamaForCausalLM" }),
                ["model_type"] = config.ModelType, ["vocab_size"] = config.VocabSize, ["hidden_size"] = config.HiddenSize,
                ["intermediate_size"] = config.IntermediateSize, ["num_hidden_layers"] = config.NumLayers,
                ["num_attention_heads"] = config.NumHeads, ["num_key_value_heads"] = config.NumKeyValueHeads,
                ["max_position_embeddings"] = config.MaxPositionEmbeddings, ["rms_norm_eps"] = config.NormEps,
                ["rope_theta"] = config.RopeTheta, ["hidden_act"] = "silu", ["tie_word_embeddings"] = config.TieWordEmbeddings,
                ["attention_bias"] = config.AttentionBias, ["initializer_range"] = 0.02, ["rope_scaling"] = null,
            };
            if (config.ModelType == "mistral") json["sliding_window"] = null;
        }
        if (config.BosTokenId is int bos) json["bos_token_id"] = bos;
        if (config.EosTokenId is int eos) json["eos_token_id"] = eos;
        json["torch_dtype"] = config.TorchDtype;
        if (config.NameOrPath is { } name) json["_name_or_path"] = name;
        json["use_cache"] = true;
        File.WriteAllText(Path.Combine(directory, "config.json"), json.ToJsonString(new() { WriteIndented = true }));
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
