using System.Text.Json.Nodes;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Tokenization;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine;

[Collection(EngineTestCollection.Name)]
public sealed class LoraTests
{
    private static readonly TextTokenizer Gpt2 = TokenizerFiles.Gpt2();
    private static readonly Tensor Ids = tensor(new long[] { 15496, 995, 11, 262, 3797, 50256 }).unsqueeze(0);

    private static Trainer TrainLora(string arch, LoraSettings lora)
    {
        var model = TinyModels.Create(arch == "gpt2" ? TinyModels.Gpt2(50257) : TinyModels.Llama(50257), seed: 5);
        var trainer = new Trainer(model, Gpt2, TrainingData.Sentiment(16, seed: 1), null,
            ResolvedSettings.Training() with { NEpochs = 1, BatchSize = 4, LearningRate = 1e-2, MaxSeqLength = 64, Lora = lora });
        while (trainer.Step < trainer.TotalSteps) trainer.TrainStep();
        trainer.Model.eval();
        return trainer;
    }

    [Fact]
    public void SavedAdapter_UsesPeftKeyNamesAndConfig()
    {
        using var dir = new TempDirectory();
        using var trainer = TrainLora("llama", ResolvedSettings.Lora("llama") with { Rank = 4, Alpha = 8, TargetModules = ["q_proj", "v_proj"] });
        trainer.SaveAdapter(dir.Path, baseModel: "tiny-llama");
        var tensors = Safetensors.Read(Path.Combine(dir.Path, "adapter_model.safetensors"));
        Assert.Equal(2 * 2 * 2, tensors.Count); // 2 layers × (q, v) × (A, B)
        Assert.Equal(new long[] { 4, 32 }, tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].shape);
        Assert.Equal(new long[] { 16, 4 }, tensors["base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"].shape);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "adapter_config.json")))!;
        Assert.Equal("LORA", config["peft_type"]!.GetValue<string>());
        Assert.Equal(4, config["r"]!.GetValue<int>());
        Assert.Equal(8, config["lora_alpha"]!.GetValue<double>());
        Assert.Equal("tiny-llama", config["base_model_name_or_path"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(null, "SmolLM2-135M-Instruct")]                                           // no _name_or_path: the folder's name
    [InlineData("HuggingFaceTB/SmolLM2-135M-Instruct", "HuggingFaceTB/SmolLM2-135M-Instruct")]
    public void Adapter_NamesTheBasesOwnHuggingFaceName_AndKeepsTheServiceIdInItsMetadata(string? nameOrPath, string expected)
    {
        using var dir = new TempDirectory();
        var baseDirectory = dir.Sub("SmolLM2-135M-Instruct");
        HfCheckpoint.Save(TinyModels.Create(TinyModels.Llama(50257), seed: 5), baseDirectory);
        Gpt2.SaveTo(baseDirectory);
        if (nameOrPath is not null)
        {
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(baseDirectory, "config.json")))!.AsObject();
            config["_name_or_path"] = nameOrPath;
            File.WriteAllText(Path.Combine(baseDirectory, "config.json"), config.ToJsonString());
        }

        using var loaded = Worker.Engine.ModelLoader.LoadDirectory("my-smol", baseDirectory);
        LoraAdapter.Attach(loaded.Model, ResolvedSettings.Lora("llama"));
        LoraAdapter.Save(loaded.Model, ResolvedSettings.Lora("llama"), dir.Sub("adapter"), baseModel: "my-smol");

        var adapterConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Sub("adapter"), "adapter_config.json")))!;
        Assert.Equal(expected, adapterConfig["base_model_name_or_path"]!.GetValue<string>());
        var weights = File.ReadAllBytes(Path.Combine(dir.Sub("adapter"), "adapter_model.safetensors"));
        var header = JsonNode.Parse(System.Text.Encoding.UTF8.GetString(weights, 8, (int)BitConverter.ToInt64(weights, 0)))!;
        Assert.Equal("my-smol", header["__metadata__"]![LoraAdapter.ServiceBaseModelKey]!.GetValue<string>());
    }

    [Fact]
    public void Gpt2Adapter_TargetsCAttn_ByDefault_WithPeftNames()
    {
        using var dir = new TempDirectory();
        using var trainer = TrainLora("gpt2", ResolvedSettings.Lora("gpt2") with { Rank = 2 });
        trainer.SaveAdapter(dir.Path, baseModel: "tiny-gpt2");
        var keys = Safetensors.Read(Path.Combine(dir.Path, "adapter_model.safetensors")).Keys.Order().ToList();
        Assert.Contains("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", keys);
        Assert.Equal(4, keys.Count); // 2 layers × c_attn × (A, B)
        Assert.True(JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "adapter_config.json")))!["fan_in_fan_out"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void MergedModel_AndAdapterReloadedOnTheBase_ReproduceTheAdapterModelsLogits(string arch)
    {
        using var merged = new TempDirectory();
        using var adapter = new TempDirectory();
        using var trainer = TrainLora(arch, ResolvedSettings.Lora(arch) with { Rank = 4, Dropout = 0.1 });
        var expected = trainer.Model.forward(Ids);
        var untrained = TinyModels.Create(arch == "gpt2" ? TinyModels.Gpt2(50257) : TinyModels.Llama(50257), seed: 5);
        Assert.False(untrained.forward(Ids).allclose(expected, rtol: 1e-4, atol: 1e-4)); // the adapter changed the model

        trainer.SaveModel(merged.Path);
        using var mergedModel = HfCheckpoint.Load(merged.Path);
        Assert.True(mergedModel.forward(Ids).allclose(expected, rtol: 1e-4, atol: 1e-4));

        trainer.SaveAdapter(adapter.Path, "base");
        LoraAdapter.Load(untrained, adapter.Path);
        untrained.eval();
        Assert.True(untrained.forward(Ids).allclose(expected, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void LoraTraining_LeavesBaseWeightsUntouched()
    {
        using var trainer = TrainLora("llama", ResolvedSettings.Lora("llama") with { Rank = 4 });
        var original = TinyModels.Create(TinyModels.Llama(50257), seed: 5).named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in trainer.Model.named_parameters().Where(p => !p.name.Contains("lora_")))
            Assert.True(p.allclose(original[name], rtol: 0, atol: 0), name);
    }
}
