using TuningService.Domain.Models;

namespace TuningService.Domain.Tests.Models;

public sealed class BaseModelCatalogTests
{
    [Fact]
    public void TinyGpt2_HasTheRecordedDimensions_AndGpt2ParameterCount()
    {
        var p = BaseModelCatalog.FindPreset("tiny-gpt2")!;
        Assert.Equal(("gpt2", 50257, 2, 64, 4, 512), (p.Architecture, p.VocabSize, p.NLayer, p.NEmbd, p.NHead, p.ContextLength));
        // wte 50257·64 + wpe 256·64 + 2 blocks · 49,984 + ln_f 128 (lm_head tied)
        Assert.Equal(3_216_448 + 32_768 + 2 * 49_984 + 128, p.ParameterCount);
    }

    [Fact]
    public void TinyLlama_HasTheRecordedDimensions_AndLlamaParameterCount()
    {
        var p = BaseModelCatalog.FindPreset("tiny-llama")!;
        Assert.Equal(("llama", 50257, 2, 64, 4, 2, 176), (p.Architecture, p.VocabSize, p.NLayer, p.NEmbd, p.NHead, p.NKvHead, p.IntermediateSize));
        // embed + 2 · (q 64·64 + k,v 2·64·32 + o 64·64 + gate/up/down 3·64·176 + 2 norms 128) + final norm 64
        Assert.Equal(50257L * 64 + 2 * (4096 + 4096 + 4096 + 33792 + 128) + 64, p.ParameterCount);
    }

    [Fact]
    public void List_HasThePresets_AndEveryCheckpointFolderWithAConfig()
    {
        var root = Directory.CreateTempSubdirectory("models-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "my-llama"));
        File.WriteAllText(Path.Combine(root, "my-llama", "config.json"), """{"model_type":"llama","hidden_size":64}""");
        Directory.CreateDirectory(Path.Combine(root, "not-a-model"));
        Directory.CreateDirectory(Path.Combine(root, "tiny-gpt2"));
        File.WriteAllText(Path.Combine(root, "tiny-gpt2", "config.json"), """{"model_type":"llama"}""");

        var catalog = new BaseModelCatalog(root);
        var ids = catalog.List().Select(m => m.Id).ToList();
        Assert.Equal(["tiny-gpt2", "tiny-llama", "gpt2-124m-random", "my-llama"], ids);
        var mine = catalog.Find("my-llama")!;
        Assert.Equal((BaseModelKinds.Checkpoint, "llama"), (mine.Kind, mine.Architecture));
        Assert.Equal(BaseModelKinds.Preset, catalog.Find("tiny-gpt2")!.Kind); // a preset wins a name clash
        Assert.Null(catalog.Find("not-a-model"));
        Assert.Null(catalog.Find("../etc"));
        Assert.Null(new BaseModelCatalog(Path.Combine(root, "missing")).Find("my-llama"));
    }
}
