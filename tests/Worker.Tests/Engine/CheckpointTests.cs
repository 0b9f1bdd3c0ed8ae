using System.Text.Json.Nodes;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Tests.Engine.Reference;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine;

[Collection(EngineTestCollection.Name)]
public sealed class CheckpointTests
{
    private static readonly long[] Ids = [5, 17, 3, 88, 42, 0, 96, 7];

    [Theory]
    [InlineData("gpt2", 1L << 40)]
    [InlineData("llama", 1L << 40)]
    [InlineData("llama", 20_000)] // forces several shards and an index
    public void SavedThenLoaded_GivesIdenticalLogits(string type, long shardBytes)
    {
        using var dir = new TempDirectory();
        using var model = TinyModels.Create(type == "gpt2" ? TinyModels.Gpt2() : TinyModels.Llama());
        HfCheckpoint.Save(model, dir.Path, ScalarType.Float32, shardBytes);
        using var loaded = HfCheckpoint.Load(dir.Path);
        var ids = tensor(Ids).unsqueeze(0);
        Assert.True(model.forward(ids).allclose(loaded.forward(ids), rtol: 0, atol: 0));
        Assert.Equal(shardBytes < 1_000_000, File.Exists(Path.Combine(dir.Path, "model.safetensors.index.json")));
    }

    [Theory]
    [InlineData("bfloat16", ScalarType.BFloat16)]
    [InlineData("float16", ScalarType.Float16)]
    public void SavedInHalfPrecision_StoresThatDtype_AndLoadsCloseToFloat32(string name, ScalarType dtype)
    {
        using var dir = new TempDirectory();
        using var model = TinyModels.Create(TinyModels.Llama());
        HfCheckpoint.Save(model, dir.Path, dtype);
        Assert.All(Safetensors.Read(Path.Combine(dir.Path, "model.safetensors")).Values, t => Assert.Equal(dtype, t.dtype));
        Assert.Equal(name, JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!["torch_dtype"]!.GetValue<string>());
        using var loaded = HfCheckpoint.Load(dir.Path);
        var ids = tensor(Ids).unsqueeze(0);
        Assert.True(model.forward(ids).allclose(loaded.forward(ids), rtol: 0, atol: 0.05));
    }

    [Fact]
    public void TrainedModel_OfABfloat16Base_IsDeliveredInFloat32_TheWeightsItsMetricsDescribe()
    {
        using var dir = new TempDirectory();
        var model = TinyModels.Create(TinyModels.Llama(50257) with { TorchDtype = "bfloat16" }, seed: 5);
        using var trainer = new Worker.Engine.Training.Trainer(model, Worker.Engine.Tokenization.TokenizerFiles.Gpt2(), TrainingData.Sentiment(8, seed: 1), null,
            ResolvedSettings.Training() with { NEpochs = 1, BatchSize = 4, LearningRate = 1e-2, MaxSeqLength = 64 });
        trainer.TrainStep();
        trainer.SaveModel(dir.Path);

        var saved = Safetensors.Read(Path.Combine(dir.Path, "model.safetensors"));
        Assert.All(saved.Values, t => Assert.Equal(ScalarType.Float32, t.dtype));
        Assert.Equal("float32", JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!["torch_dtype"]!.GetValue<string>());
        var trained = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.True(saved["model.layers.0.self_attn.q_proj.weight"].allclose(trained["model.layers.0.self_attn.q_proj.weight"], rtol: 0, atol: 0));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HfGpt2Checkpoint_WithConv1DLayout_GivesTheLogitsOfANaiveReference(bool transformerPrefix)
    {
        using var dir = new TempDirectory();
        var config = TinyModels.Gpt2();
        manual_seed(3);
        int c = 32, v = config.VocabSize, inner = 128;
        var w = new Dictionary<string, Tensor> { ["wte.weight"] = randn(v, c) * 0.2, ["wpe.weight"] = randn(64, c) * 0.2, ["ln_f.weight"] = 1 + randn(c) * 0.1, ["ln_f.bias"] = randn(c) * 0.1 };
        for (int l = 0; l < 2; l++)
        {
            string p = $"h.{l}.";
            w[p + "ln_1.weight"] = 1 + randn(c) * 0.1; w[p + "ln_1.bias"] = randn(c) * 0.1;
            w[p + "ln_2.weight"] = 1 + randn(c) * 0.1; w[p + "ln_2.bias"] = randn(c) * 0.1;
            w[p + "attn.c_attn.weight"] = randn(c, 3 * c) * 0.2; w[p + "attn.c_attn.bias"] = randn(3 * c) * 0.1;
            w[p + "attn.c_proj.weight"] = randn(c, c) * 0.2; w[p + "attn.c_proj.bias"] = randn(c) * 0.1;
            w[p + "mlp.c_fc.weight"] = randn(c, inner) * 0.2; w[p + "mlp.c_fc.bias"] = randn(inner) * 0.1;
            w[p + "mlp.c_proj.weight"] = randn(inner, c) * 0.2; w[p + "mlp.c_proj.bias"] = randn(c) * 0.1;
            w[p + "attn.bias"] = ones(1, 1, 64, 64).tril(); // old checkpoints carry the causal mask; it must be ignored
        }
        var onDisk = w.ToDictionary(kv => (transformerPrefix ? "transformer." : "") + kv.Key, kv => kv.Value);
        Safetensors.Write(Path.Combine(dir.Path, "model.safetensors"), onDisk);
        WriteConfig(dir.Path, new JsonObject { ["model_type"] = "gpt2", ["vocab_size"] = v, ["n_embd"] = c, ["n_layer"] = 2, ["n_head"] = 4, ["n_positions"] = 64 });

        using var model = HfCheckpoint.Load(dir.Path);
        var expected = NaiveTransformers.Gpt2Logits(w, Ids, layers: 2, heads: 4);
        var actual = model.forward(tensor(Ids).unsqueeze(0))[0];
        Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-4), $"max diff {(actual - expected).abs().max().item<float>()}");
    }

    [Theory]
    [InlineData("llama", false, false)]
    [InlineData("qwen2", true, true)]
    [InlineData("mistral", false, false)]
    public void HfLlamaFamilyCheckpoint_GivesTheLogitsOfANaiveReference(string type, bool bias, bool tied)
    {
        using var dir = new TempDirectory();
        manual_seed(4);
        int c = 32, v = 97, inner = 48, heads = 4, kvHeads = 2, d = 8;
        var w = new Dictionary<string, Tensor> { ["model.embed_tokens.weight"] = randn(v, c) * 0.3, ["model.norm.weight"] = 1 + randn(c) * 0.1 };
        if (!tied) w["lm_head.weight"] = randn(v, c) * 0.3;
        for (int l = 0; l < 2; l++)
        {
            string p = $"model.layers.{l}.";
            w[p + "input_layernorm.weight"] = 1 + randn(c) * 0.1;
            w[p + "post_attention_layernorm.weight"] = 1 + randn(c) * 0.1;
            w[p + "self_attn.q_proj.weight"] = randn(heads * d, c) * 0.3;
            w[p + "self_attn.k_proj.weight"] = randn(kvHeads * d, c) * 0.3;
            w[p + "self_attn.v_proj.weight"] = randn(kvHeads * d, c) * 0.3;
            w[p + "self_attn.o_proj.weight"] = randn(c, heads * d) * 0.3;
            if (bias)
            {
                w[p + "self_attn.q_proj.bias"] = randn(heads * d) * 0.3;
                w[p + "self_attn.k_proj.bias"] = randn(kvHeads * d) * 0.3;
                w[p + "self_attn.v_proj.bias"] = randn(kvHeads * d) * 0.3;
            }
            w[p + "mlp.gate_proj.weight"] = randn(inner, c) * 0.3;
            w[p + "mlp.up_proj.weight"] = randn(inner, c) * 0.3;
            w[p + "mlp.down_proj.weight"] = randn(c, inner) * 0.3;
        }
        Safetensors.Write(Path.Combine(dir.Path, "model.safetensors"), w.ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.BFloat16).to(ScalarType.Float32)));
        WriteConfig(dir.Path, new JsonObject
        {
            ["model_type"] = type, ["vocab_size"] = v, ["hidden_size"] = c, ["intermediate_size"] = inner, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = heads, ["num_key_value_heads"] = kvHeads, ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 500000.0,
            ["tie_word_embeddings"] = tied, ["max_position_embeddings"] = 128,
        });

        using var model = HfCheckpoint.Load(dir.Path);
        var rounded = w.ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.BFloat16).to(ScalarType.Float32));
        var expected = NaiveTransformers.LlamaLogits(rounded, Ids, 2, heads, kvHeads, 500000.0, 1e-6);
        var actual = model.forward(tensor(Ids).unsqueeze(0))[0];
        Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-4), $"max diff {(actual - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void SavedGpt2_UsesHfKeysConv1DLayoutAndConfigFields_TransformersExpects()
    {
        using var dir = new TempDirectory();
        using var model = TinyModels.Create(TinyModels.Gpt2());
        HfCheckpoint.Save(model, dir.Path);
        var tensors = Safetensors.Read(Path.Combine(dir.Path, "model.safetensors"));
        Assert.Equal(new long[] { 32, 96 }, tensors["transformer.h.0.attn.c_attn.weight"].shape);
        Assert.Equal(new long[] { 128, 32 }, tensors["transformer.h.1.mlp.c_proj.weight"].shape);
        Assert.DoesNotContain("lm_head.weight", tensors.Keys);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!;
        Assert.Equal("gpt2", config["model_type"]!.GetValue<string>());
        Assert.Equal("GPT2LMHeadModel", config["architectures"]![0]!.GetValue<string>());
        Assert.True(config["tie_word_embeddings"]!.GetValue<bool>());
    }

    private static void WriteConfig(string dir, JsonObject config) => File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
}
