using TuningService.Domain.Models;
using TuningService.Worker.Engine;

namespace TuningService.Worker.Tests.Engine;

public sealed class PresetParityTests
{
    [Fact]
    public void EnginePresets_AreExactlyTheOnesTheApiLists_WithTheSameParameterCounts()
    {
        Assert.Equal(BaseModelCatalog.Presets.Select(p => p.Id), ModelCatalog.Presets.Select(p => p.Id));
        foreach (var (listed, built) in BaseModelCatalog.Presets.Zip(ModelCatalog.Presets))
        {
            Assert.Equal(listed.ParameterCount, built.Parameters);
            Assert.Equal(listed.ContextLength, built.Config.MaxPositionEmbeddings);
        }
    }

    [Fact]
    public void TinyPresets_AllocateTheParametersTheApiAdvertises()
    {
        var catalog = new ModelCatalog("/nonexistent");
        foreach (var id in new[] { "tiny-gpt2", "tiny-llama" })
        {
            using var loaded = catalog.Load(id, seed: 1);
            Assert.Equal(BaseModelCatalog.FindPreset(id)!.ParameterCount, loaded.Model.parameters().Sum(p => p.numel()));
        }
    }
}
