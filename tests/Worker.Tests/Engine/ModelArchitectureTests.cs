using TuningService.Worker.Engine;
using TuningService.Worker.Engine.Models;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine;

[Collection(EngineTestCollection.Name)]
public sealed class ModelArchitectureTests
{
    [Fact]
    public void Gpt2SmallConfig_Has124439808Parameters_ByFormula()
        => Assert.Equal(124_439_808, new ModelConfig().ParameterCount());

    [Fact]
    public void Llama2_7BConfig_Has6738415616Parameters_ByFormula()
    {
        var llama7b = new ModelConfig
        {
            Architecture = ModelArchitecture.Llama, ModelType = "llama", VocabSize = 32000, HiddenSize = 4096, NumLayers = 32,
            NumHeads = 32, NumKeyValueHeads = 32, IntermediateSize = 11008, TieWordEmbeddings = false,
        };
        Assert.Equal(6_738_415_616, llama7b.ParameterCount());
    }

    [Theory]
    [InlineData("gpt2", false, false)]
    [InlineData("llama", false, false)]
    [InlineData("llama", true, false)]
    [InlineData("qwen2", false, true)]
    public void AllocatedModel_CountsParameters_LikeTheFormula(string type, bool tied, bool bias)
    {
        var config = type == "gpt2" ? TinyModels.Gpt2() : TinyModels.Llama(tied: tied, bias: bias, type: type);
        using var model = TinyModels.Create(config);
        Assert.Equal(config.ParameterCount(), model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Presets_ListTinyGpt2AndTinyLlama_WithGpt2Vocabulary()
    {
        var ids = ModelLoader.Presets.Select(p => p.Id).ToList();
        Assert.Contains("tiny-gpt2", ids);
        Assert.Contains("tiny-llama", ids);
        Assert.All(ModelLoader.Presets, p => Assert.Equal(50257, p.Config.VocabSize));
    }

    [Fact]
    public void Preset_IsInitialisedDeterministically_FromTheSeed()
    {
        using var a = ModelLoader.LoadPreset("tiny-llama", seed: 7);
        using var b = ModelLoader.LoadPreset("tiny-llama", seed: 7);
        using var c = ModelLoader.LoadPreset("tiny-llama", seed: 8);
        var ids = tensor(new long[] { 15496, 995, 11, 50256 }).unsqueeze(0);
        Assert.True(a.Model.forward(ids).allclose(b.Model.forward(ids), rtol: 0, atol: 0));
        Assert.False(a.Model.forward(ids).allclose(c.Model.forward(ids)));
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void HiddenStates_HaveShapeBTC_AndLogitsBTV(string type)
    {
        var config = type == "gpt2" ? TinyModels.Gpt2() : TinyModels.Llama();
        using var model = TinyModels.Create(config);
        var ids = randint(0, config.VocabSize, [3, 5]);
        Assert.Equal(new long[] { 3, 5, 32 }, model.HiddenStates(ids).shape);
        Assert.Equal(new long[] { 3, 5, config.VocabSize }, model.forward(ids).shape);
    }
}
