using TorchSharp;
using TuningService.Domain.Models;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Engine;

/// <summary>A built-in base model: a shape plus the GPT-2 tokenizer, randomly initialised from a seed; needs no download.</summary>
public sealed record ModelPreset(string Id, string Description, ModelConfig Config)
{
    public ModelArchitecture Architecture => Config.Architecture;
    public long Parameters => Config.ParameterCount();
}

/// <summary>A model ready to train or sample, with its tokenizer and where it came from (null for presets).</summary>
public sealed record LoadedModel(string Id, CausalLanguageModel Model, TextTokenizer Tokenizer, string? Directory) : IDisposable
{
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Loads into TorchSharp what the Domain's <see cref="ModelCatalog"/> resolves a model id to: a preset, built from
/// exactly the catalogue's numbers with random weights, or a Hugging Face model directory (a base checkpoint, a
/// fine-tuned output, a checkpoint).
/// </summary>
public static class ModelLoader
{
    /// <summary>The catalogue's presets as engine configurations.</summary>
    public static IReadOnlyList<ModelPreset> Presets { get; } = ModelCatalog.Presets.Select(ToEngine).ToList();

    private static ModelPreset ToEngine(BaseModelPreset preset) => new(preset.Id, preset.Description, new ModelConfig
    {
        Architecture = preset.Architecture == "llama" ? ModelArchitecture.Llama : ModelArchitecture.Gpt2,
        ModelType = preset.Architecture,
        VocabSize = preset.VocabSize,
        HiddenSize = preset.NEmbd,
        NumLayers = preset.NLayer,
        NumHeads = preset.NHead,
        NumKeyValueHeads = preset.NKvHead,
        IntermediateSize = preset.IntermediateSize,
        MaxPositionEmbeddings = preset.ContextLength,
        NormEps = preset.Architecture == "llama" ? 1e-6 : 1e-5,
        TieWordEmbeddings = preset.TieWordEmbeddings,
        BosTokenId = ModelCatalog.Gpt2VocabSize - 1,
        EosTokenId = ModelCatalog.Gpt2VocabSize - 1,
    });

    /// <summary>Loads a catalogue entry: a preset (random init from <paramref name="seed"/>) or its directory.</summary>
    public static LoadedModel Load(ModelEntry model, long seed = 0) => model.Kind == BaseModelKinds.Preset
        ? LoadPreset(model.Id, seed)
        : LoadDirectory(model.Id, model.Directory ?? throw new ArgumentException($"Model '{model.Id}' has no directory.", nameof(model)));

    /// <summary>A preset with weights drawn from <paramref name="seed"/>: the same seed gives the same weights.</summary>
    public static LoadedModel LoadPreset(string id, long seed = 0)
    {
        var preset = Presets.FirstOrDefault(p => p.Id == id) ?? throw new KeyNotFoundException($"Model '{id}' is not a preset.");
        torch.manual_seed(seed);
        var model = HfCheckpoint.Create(preset.Config);
        model.InitializeWeights();
        return new LoadedModel(id, model, TokenizerFiles.Gpt2(), null);
    }

    /// <summary>A Hugging Face model directory (config.json, safetensors, tokenizer files), listed as <paramref name="id"/>.</summary>
    public static LoadedModel LoadDirectory(string id, string directory) =>
        new(id, HfCheckpoint.Load(directory), TokenizerFiles.Load(directory), directory);
}
