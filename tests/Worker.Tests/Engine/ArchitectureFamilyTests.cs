using System.Text.Json.Nodes;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Tests.Engine.Reference;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine;

/// <summary>
/// The 2025–26 checkpoints of the Llama family: published parameter counts from their config.json, and logits of
/// each variant (rope_scaling, head_dim ≠ C / H, Qwen3's q/k norms, Mistral's sliding window) against the naive
/// reference; configs written back with every field the engine does not use unchanged.
/// </summary>
[Collection(EngineTestCollection.Name)]
public sealed class ArchitectureFamilyTests
{
    private static readonly long[] Ids = [5, 17, 3, 88, 42, 0, 96, 7, 61, 23, 9, 70];

    [Theory]
    [InlineData("Llama-3.2-1B", """{"model_type":"llama","vocab_size":128256,"hidden_size":2048,"intermediate_size":8192,"num_hidden_layers":16,"num_attention_heads":32,"num_key_value_heads":8,"tie_word_embeddings":true,"rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"}}""", 1_235_814_400L)]
    [InlineData("Qwen2.5-0.5B", """{"model_type":"qwen2","vocab_size":151936,"hidden_size":896,"intermediate_size":4864,"num_hidden_layers":24,"num_attention_heads":14,"num_key_value_heads":2,"tie_word_embeddings":true,"use_sliding_window":false,"max_window_layers":21}""", 494_032_768L)]
    [InlineData("Qwen3-0.6B", """{"model_type":"qwen3","vocab_size":151936,"hidden_size":1024,"intermediate_size":3072,"num_hidden_layers":28,"num_attention_heads":16,"num_key_value_heads":8,"head_dim":128,"tie_word_embeddings":true,"attention_bias":false}""", 596_049_920L)]
    [InlineData("SmolLM2-135M", """{"model_type":"llama","vocab_size":49152,"hidden_size":576,"intermediate_size":1536,"num_hidden_layers":30,"num_attention_heads":9,"num_key_value_heads":3,"tie_word_embeddings":true}""", 134_515_008L)]
    [InlineData("Mistral-7B-v0.1", """{"model_type":"mistral","vocab_size":32000,"hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,"tie_word_embeddings":false,"sliding_window":4096}""", 7_241_732_096L)]
    [InlineData("Phi-3-mini-4k", """{"model_type":"phi3","vocab_size":32064,"hidden_size":3072,"intermediate_size":8192,"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":32,"tie_word_embeddings":false,"sliding_window":2047}""", 3_821_079_552L)]
    [InlineData("gemma-2-2b", """{"model_type":"gemma2","vocab_size":256000,"hidden_size":2304,"intermediate_size":9216,"num_hidden_layers":26,"num_attention_heads":8,"num_key_value_heads":4,"head_dim":256,"query_pre_attn_scalar":256,"sliding_window":4096,"attn_logit_softcapping":50.0,"final_logit_softcapping":30.0,"hidden_activation":"gelu_pytorch_tanh"}""", 2_614_341_888L)]
    public void PublishedConfig_CountsThePublishedParameters(string model, string config, long published)
        => Assert.True(published == HfConfig.Parse(JsonNode.Parse(config)!.AsObject()).ParameterCount(), model);

    public static TheoryData<string, string> Variants => new()
    {
        { "plain", """{"model_type":"llama"}""" },
        { "llama3", """{"model_type":"llama","rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":16}}""" },
        { "linear", """{"model_type":"llama","rope_scaling":{"type":"linear","factor":4.0}}""" },
        { "yarn", """{"model_type":"qwen2","rope_scaling":{"type":"yarn","factor":4.0,"original_max_position_embeddings":16}}""" },
        { "dynamic", """{"model_type":"llama","max_position_embeddings":8,"rope_scaling":{"type":"dynamic","factor":2.0}}""" },
        { "qwen3", """{"model_type":"qwen3","head_dim":12}""" },
        { "sliding", """{"model_type":"mistral","sliding_window":5}""" },
        { "phi3", """{"model_type":"phi3","sliding_window":6}""" },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Variant_GivesTheLogitsOfTheNaiveReference(string variant, string overrides)
    {
        using var dir = new TempDirectory();
        manual_seed(11);
        var json = JsonNode.Parse("""{"vocab_size":97,"hidden_size":32,"intermediate_size":48,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"rms_norm_eps":1e-6,"rope_theta":10000.0,"max_position_embeddings":64,"tie_word_embeddings":false}""")!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(overrides)!.AsObject()) json[key] = value?.DeepClone();
        var config = HfConfig.Parse(json);
        int d = config.HeadDim, heads = config.NumHeads, kv = config.NumKeyValueHeads, c = config.HiddenSize;
        var w = new Dictionary<string, Tensor> { ["model.embed_tokens.weight"] = randn(97, c) * 0.3, ["model.norm.weight"] = 1 + randn(c) * 0.1, ["lm_head.weight"] = randn(97, c) * 0.3 };
        for (int l = 0; l < 2; l++)
        {
            string p = $"model.layers.{l}.";
            w[p + "input_layernorm.weight"] = 1 + randn(c) * 0.1;
            w[p + "post_attention_layernorm.weight"] = 1 + randn(c) * 0.1;
            w[p + "self_attn.q_proj.weight"] = randn(heads * d, c) * 0.3;
            w[p + "self_attn.k_proj.weight"] = randn(kv * d, c) * 0.3;
            w[p + "self_attn.v_proj.weight"] = randn(kv * d, c) * 0.3;
            w[p + "self_attn.o_proj.weight"] = randn(c, heads * d) * 0.3;
            if (config.AttentionBias)
                foreach (var (name, size) in new[] { ("q", heads * d), ("k", kv * d), ("v", kv * d) }) w[p + $"self_attn.{name}_proj.bias"] = randn(size) * 0.3;
            if (config.QkNorm)
            {
                w[p + "self_attn.q_norm.weight"] = 1 + randn(d) * 0.1;
                w[p + "self_attn.k_norm.weight"] = 1 + randn(d) * 0.1;
            }
            w[p + "mlp.gate_proj.weight"] = randn(48, c) * 0.3;
            w[p + "mlp.up_proj.weight"] = randn(48, c) * 0.3;
            w[p + "mlp.down_proj.weight"] = randn(c, 48) * 0.3;
        }
        Safetensors.Write(Path.Combine(dir.Path, "model.safetensors"), config.FusedProjections ? Fused(w) : w);
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), json.ToJsonString());

        using var model = HfCheckpoint.Load(dir.Path);
        Assert.Equal(config.ParameterCount(), model.parameters().Sum(p => p.numel()));
        var (frequency, factor) = NaiveRope(variant, Ids.Length);
        var expected = NaiveTransformers.LlamaLogits(w, Ids, 2, heads, kv, 1e-6, frequency, factor, config.SlidingWindow);
        var actual = model.forward(tensor(Ids).unsqueeze(0))[0];
        Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-4), $"{variant}: max diff {(actual - expected).abs().max().item<float>()}");
    }

    /// <summary>Phi-3's layout of the same weights: q, k, v stacked into qkv_proj and gate, up into gate_up_proj.</summary>
    private static Dictionary<string, Tensor> Fused(Dictionary<string, Tensor> w)
    {
        var fused = w.Where(kv => !kv.Key.Contains("_proj.") || kv.Key.Contains("o_proj") || kv.Key.Contains("down_proj")).ToDictionary();
        foreach (var layer in w.Keys.Where(k => k.EndsWith("self_attn.q_proj.weight")).Select(k => k[..k.IndexOf("self_attn.", StringComparison.Ordinal)]))
        {
            fused[layer + "self_attn.qkv_proj.weight"] = cat([w[layer + "self_attn.q_proj.weight"], w[layer + "self_attn.k_proj.weight"], w[layer + "self_attn.v_proj.weight"]], 0);
            fused[layer + "mlp.gate_up_proj.weight"] = cat([w[layer + "mlp.gate_proj.weight"], w[layer + "mlp.up_proj.weight"]], 0);
        }
        return fused;
    }

    /// <summary>
    /// transformers' rope formulas for the variants above (θ = 10000), written per pair from the paper and the
    /// library's documentation as a function of r = i / D: the rotation of pair i is pos · f(r).
    /// </summary>
    private static (Func<double, double>, double) NaiveRope(string variant, int length)
    {
        double Plain(double r, double theta = 10000) => Math.Pow(theta, -2 * r);
        switch (variant)
        {
            case "llama3":
                return (r =>
                {
                    double f = Plain(r), wavelength = 2 * Math.PI / f;
                    if (wavelength < 16 / 4.0) return f;
                    if (wavelength > 16 / 1.0) return f / 8;
                    double smooth = (16 / wavelength - 1) / (4 - 1);
                    return (1 - smooth) * f / 8 + smooth * f;
                }, 1.0);
            case "linear":
                return (r => Plain(r) / 4, 1.0);
            case "yarn":
            {
                const int d = 8;
                double Dim(double rotations) => d * Math.Log(16 / (rotations * 2 * Math.PI)) / (2 * Math.Log(10000));
                double low = Math.Max(Math.Floor(Dim(32)), 0), high = Math.Min(Math.Ceiling(Dim(1)), d - 1);
                return (r =>
                {
                    double i = r * d, ramp = Math.Clamp((i - low) / (high - low), 0, 1);
                    return Plain(r) / 4 * ramp + Plain(r) * (1 - ramp);
                }, 0.1 * Math.Log(4) + 1);
            }
            case "dynamic":
            {
                const int d = 8;
                double theta = 10000 * Math.Pow(2.0 * length / 8 - 1, d / (d - 2.0)); // the sequence (12) is past max_position_embeddings (8)
                return (r => Plain(r, theta), 1.0);
            }
            default:
                return (r => Plain(r), 1.0);
        }
    }

    [Fact]
    public void Gemma2_GivesTheLogitsOfTheNaiveReference()
    {
        using var dir = new TempDirectory();
        manual_seed(13);
        var json = JsonNode.Parse("""{"model_type":"gemma2","vocab_size":97,"hidden_size":32,"intermediate_size":48,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":12,"query_pre_attn_scalar":10,"sliding_window":4,"attn_logit_softcapping":2.0,"final_logit_softcapping":3.0,"rms_norm_eps":1e-6,"rope_theta":10000.0,"max_position_embeddings":64}""")!.AsObject();
        var w = new Dictionary<string, Tensor> { ["model.embed_tokens.weight"] = randn(97, 32) * 0.3, ["model.norm.weight"] = randn(32) * 0.1 };
        for (int l = 0; l < 2; l++)
        {
            string p = $"model.layers.{l}.";
            foreach (var norm in new[] { "input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm" })
                w[p + norm + ".weight"] = randn(32) * 0.1;
            w[p + "self_attn.q_proj.weight"] = randn(4 * 12, 32) * 0.3;
            w[p + "self_attn.k_proj.weight"] = randn(2 * 12, 32) * 0.3;
            w[p + "self_attn.v_proj.weight"] = randn(2 * 12, 32) * 0.3;
            w[p + "self_attn.o_proj.weight"] = randn(32, 4 * 12) * 0.3;
            w[p + "mlp.gate_proj.weight"] = randn(48, 32) * 0.3;
            w[p + "mlp.up_proj.weight"] = randn(48, 32) * 0.3;
            w[p + "mlp.down_proj.weight"] = randn(32, 48) * 0.3;
        }
        Safetensors.Write(Path.Combine(dir.Path, "model.safetensors"), w);
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), json.ToJsonString());

        using var model = HfCheckpoint.Load(dir.Path);
        Assert.Equal(model.Config.ParameterCount(), model.parameters().Sum(p => p.numel()));
        var expected = NaiveTransformers.Gemma2Logits(w, Ids, 2, 4, 2, 12, 10000, 1e-6, queryScalar: 10, attentionCap: 2, finalCap: 3, window: 4);
        var actual = model.forward(tensor(Ids).unsqueeze(0))[0];
        Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-4), $"max diff {(actual - expected).abs().max().item<float>()}");
        // and with a KV cache, one token at a time, as generation runs it
        using var cache = new KvCache(2);
        var stepwise = cat(Ids.Select((id, i) => model.Forward(tensor(new[] { id }).unsqueeze(0), cache: cache)[0]).ToArray(), 0);
        Assert.True(stepwise.allclose(expected, rtol: 1e-4, atol: 1e-4), $"cached: max diff {(stepwise - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void Phi3Adapter_TargetsTheFusedQkvProjection_ByDefault_WithPeftNames()
    {
        using var dir = new TempDirectory();
        manual_seed(2);
        using var model = HfCheckpoint.Create(HfConfig.Parse(JsonNode.Parse("""{"model_type":"phi3","vocab_size":97,"hidden_size":32,"intermediate_size":48,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":4,"max_position_embeddings":64}""")!.AsObject()));
        model.InitializeWeights();
        var lora = ResolvedSettings.Lora("phi3");
        LoraAdapter.Attach(model, lora);
        LoraAdapter.Save(model, lora, dir.Path, baseModel: "my-phi3");

        var keys = Safetensors.Read(Path.Combine(dir.Path, "adapter_model.safetensors")).Keys.Order().ToList();
        Assert.Equal(["qkv_proj"], lora.TargetModules);
        Assert.Equal(4, keys.Count); // 2 layers × qkv_proj × (A, B)
        Assert.Contains("base_model.model.model.layers.0.self_attn.qkv_proj.lora_B.weight", keys);
    }

    [Fact]
    public void Llama31Frequencies_KeepTheHighestAndDivideTheLowest_ByTheFactor()
    {
        var config = HfConfig.Parse(JsonNode.Parse("""{"model_type":"llama","hidden_size":4096,"num_attention_heads":32,"rope_theta":500000.0,"max_position_embeddings":131072,"rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192,"rope_type":"llama3"}}""")!.AsObject());
        var (frequencies, factor) = RotaryFrequencies.For(config, 16);
        Assert.Equal(64, frequencies.Length);
        Assert.Equal(1.0f, frequencies[0]);
        Assert.Equal((float)(Math.Pow(500000, -126.0 / 128) / 8), frequencies[63], 1e-12f);
        Assert.Equal(1.0, factor);
    }

    [Fact]
    public void SavedConfig_WritesBackEveryFieldTheEngineDoesNotUse()
    {
        using var dir = new TempDirectory();
        var original = JsonNode.Parse("""
            {"architectures":["MistralForCausalLM"],"model_type":"mistral","vocab_size":97,"hidden_size":32,"intermediate_size":48,
             "num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":2,"max_position_embeddings":64,"rms_norm_eps":1e-5,
             "rope_theta":1000000.0,"sliding_window":4096,"tie_word_embeddings":false,"bos_token_id":1,"eos_token_id":2,
             "_name_or_path":"mistralai/Mistral-7B-v0.1","hidden_act":"silu","attention_dropout":0.0,"transformers_version":"4.41.0",
             "torch_dtype":"bfloat16","use_cache":true,"initializer_range":0.02,"rope_scaling":{"rope_type":"linear","factor":2.0},
             "custom_field":{"kept":[1,2,3]}}
            """)!.AsObject();
        HfConfig.Write(dir.Path, HfConfig.Parse(original) with { TorchDtype = "float32" });

        var written = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!.AsObject();
        foreach (var (key, value) in original.Where(kv => kv.Key != "torch_dtype"))
            Assert.True(JsonNode.DeepEquals(value, written[key]), $"{key}: {value?.ToJsonString()} became {written[key]?.ToJsonString()}");
        Assert.Equal("float32", written["torch_dtype"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"model_type":"gemma3"}""", "model_type 'gemma3' is not supported")]
    [InlineData("""{"model_type":"llama","hidden_act":"relu"}""", "hidden_act 'relu' is not supported")]
    [InlineData("""{"model_type":"llama","rope_scaling":{"rope_type":"longrope","factor":4.0}}""", "rope_scaling type 'longrope' is not supported")]
    [InlineData("""{"model_type":"qwen2","use_sliding_window":true}""", "use_sliding_window true")]
    [InlineData("""{"model_type":"phi3","partial_rotary_factor":0.75}""", "partial_rotary_factor 0.75")]
    public void UnsupportedConfig_IsRefused_NamingWhatIsUnsupported(string config, string message)
        => Assert.Contains(message, Assert.Throws<NotSupportedException>(() => HfConfig.Parse(JsonNode.Parse(config)!.AsObject())).Message);
}
