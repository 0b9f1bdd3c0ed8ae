using TorchSharp;
using TuningService.Domain.Models;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Tokenization;
using static TorchSharp.torch;

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
/// Base models by id: built-in presets, Hugging Face directories under <c>ModelsRoot</c> (e.g. "gpt2" or
/// "Qwen/Qwen2-0.5B"), or any model directory path (fine-tuned outputs and checkpoints are HF directories too).
/// </summary>
public sealed class ModelCatalog(string modelsRoot)
{
    /// <summary>The presets the API lists (Domain's <see cref="BaseModelCatalog"/>), built from exactly its numbers.</summary>
    public static IReadOnlyList<ModelPreset> Presets { get; } = BaseModelCatalog.Presets.Select(ToEngine).ToList();

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
        BosTokenId = BaseModelCatalog.Gpt2VocabSize - 1,
        EosTokenId = BaseModelCatalog.Gpt2VocabSize - 1,
    });

    public string ModelsRoot { get; } = modelsRoot;

    /// <summary>Preset ids, then ids of HF directories under ModelsRoot (one or two levels deep: "name" or "org/name").</summary>
    public IReadOnlyList<string> ListBaseModels()
    {
        var ids = Presets.Select(p => p.Id).ToList();
        if (!System.IO.Directory.Exists(ModelsRoot)) return ids;
        foreach (var dir in System.IO.Directory.EnumerateDirectories(ModelsRoot).Order(StringComparer.Ordinal))
        {
            if (IsModelDirectory(dir)) ids.Add(Path.GetFileName(dir));
            else ids.AddRange(System.IO.Directory.EnumerateDirectories(dir).Where(IsModelDirectory).Order(StringComparer.Ordinal)
                .Select(d => Path.GetFileName(dir) + "/" + Path.GetFileName(d)));
        }
        return ids;
    }

    public bool Exists(string id) => Presets.Any(p => p.Id == id) || ResolveDirectory(id) is not null;

    /// <summary>Loads a base model: a preset (random init from <paramref name="seed"/>), an id under ModelsRoot, or a directory path.</summary>
    public LoadedModel Load(string id, long seed = 0)
    {
        if (Presets.FirstOrDefault(p => p.Id == id) is ModelPreset preset)
        {
            torch.manual_seed(seed);
            var model = HfCheckpoint.Create(preset.Config);
            model.InitializeWeights();
            return new LoadedModel(id, model, TokenizerFiles.Gpt2(), null);
        }
        var directory = ResolveDirectory(id) ?? throw new KeyNotFoundException($"Model '{id}' is neither a preset nor a model directory under {ModelsRoot}.");
        return new LoadedModel(id, HfCheckpoint.Load(directory), TokenizerFiles.Load(directory), directory);
    }

    private string? ResolveDirectory(string id)
    {
        if (!id.Contains("..") && IsModelDirectory(Path.Combine(ModelsRoot, id))) return Path.Combine(ModelsRoot, id);
        return Path.IsPathRooted(id) && IsModelDirectory(id) ? id : null;
    }

    private static bool IsModelDirectory(string dir) => File.Exists(Path.Combine(dir, "config.json"));
}
