using TuningService.Domain.Models;
using TuningService.Worker.Engine;

namespace TuningService.Worker.Tests.Engine;

public sealed class PresetParityTests
{
    [Fact]
    public void EnginePresets_AreExactlyTheOnesTheApiLists_WithTheSameParameterCounts()
    {
        Assert.Equal(ModelCatalog.Presets.Select(p => p.Id), ModelLoader.Presets.Select(p => p.Id));
        foreach (var (listed, built) in ModelCatalog.Presets.Zip(ModelLoader.Presets))
        {
            Assert.Equal(listed.ParameterCount, built.Parameters);
            Assert.Equal(listed.ContextLength, built.Config.MaxPositionEmbeddings);
        }
    }

    [Fact]
    public void TinyPresets_AllocateTheParametersTheApiAdvertises()
    {
        foreach (var id in new[] { "tiny-gpt2", "tiny-llama" })
        {
            using var loaded = ModelLoader.LoadPreset(id, seed: 1);
            Assert.Equal(ModelCatalog.FindPreset(id)!.ParameterCount, loaded.Model.parameters().Sum(p => p.numel()));
        }
    }
}
