using System.Text.Json;

namespace TuningService.Domain.Models;

/// <summary>
/// Dimensions of a built-in preset. Both sides read them: the API lists the preset, the worker's TorchSharp engine
/// builds it (random init, GPT-2 tokenizer) from exactly these numbers.
/// </summary>
public sealed record BaseModelPreset(
    string Id,
    string Architecture,
    string Description,
    int VocabSize,
    int ContextLength,
    int NLayer,
    int NEmbd,
    int NHead,
    int NKvHead,
    int IntermediateSize,
    bool TieWordEmbeddings)
{
    public int HeadDim => NEmbd / NHead;

    /// <summary>Trainable parameters, counted like the reference implementation (tied lm_head counted once).</summary>
    public long ParameterCount
    {
        get
        {
            long v = VocabSize, c = NEmbd, l = NLayer, f = IntermediateSize, kv = (long)NKvHead * HeadDim;
            var lmHead = TieWordEmbeddings ? 0 : v * c;
            return Architecture switch
            {
                // wte + wpe + per block (ln_1, c_attn, c_proj, ln_2, c_fc, mlp.c_proj) + ln_f; biases everywhere.
                "gpt2" => v * c + (long)ContextLength * c
                          + l * (2 * c + (c * 3 * c + 3 * c) + (c * c + c) + 2 * c + (c * f + f) + (f * c + c))
                          + 2 * c + lmHead,
                // embed + per layer (q, k, v, o, gate, up, down, 2 RMSNorm) + final norm; no biases.
                "llama" => v * c + l * (c * c + 2 * c * kv + c * c + 3 * c * f + 2 * c) + c + lmHead,
                _ => 0,
            };
        }
    }
}

/// <summary>A base model the API can list and a job can start from: a preset or a Hugging Face checkpoint folder.</summary>
public sealed record BaseModelInfo(string Id, string Kind, string Architecture, string Description, long? ParameterCount, DateTimeOffset Created, string? Directory);

public static class BaseModelKinds
{
    public const string Preset = "base_preset";
    public const string Checkpoint = "base_checkpoint";
}

/// <summary>
/// Base models: the built-in presets (random init, no download) and every folder under ModelsRoot holding a
/// <c>config.json</c> (id = folder name, architecture = its <c>model_type</c>). Presets win a name clash.
/// </summary>
public sealed class BaseModelCatalog(string modelsRoot)
{
    /// <summary>GPT-2 BPE vocabulary size; both presets use the GPT-2 tokenizer.</summary>
    public const int Gpt2VocabSize = 50257;

    private static readonly DateTimeOffset PresetsCreated = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static IReadOnlyList<BaseModelPreset> Presets { get; } =
    [
        new("tiny-gpt2", "gpt2", "Tiny GPT-2 (2 layers, 64 wide, 4 heads, 512 context), random init, GPT-2 tokenizer. For tests and demos.",
            VocabSize: Gpt2VocabSize, ContextLength: 512, NLayer: 2, NEmbd: 64, NHead: 4, NKvHead: 4, IntermediateSize: 256, TieWordEmbeddings: true),
        new("tiny-llama", "llama", "Tiny Llama (2 layers, 64 wide, 4 heads / 2 KV heads, SwiGLU 176, RoPE, RMSNorm, 2048 context), random init, GPT-2 tokenizer.",
            VocabSize: Gpt2VocabSize, ContextLength: 2048, NLayer: 2, NEmbd: 64, NHead: 4, NKvHead: 2, IntermediateSize: 176, TieWordEmbeddings: true),
        new("gpt2-124m-random", "gpt2", "GPT-2 small shape (12 layers, 768 wide, 124M parameters), random init, GPT-2 tokenizer. For benchmarks and GPU smoke runs.",
            VocabSize: Gpt2VocabSize, ContextLength: 1024, NLayer: 12, NEmbd: 768, NHead: 12, NKvHead: 12, IntermediateSize: 3072, TieWordEmbeddings: true),
    ];

    public static BaseModelPreset? FindPreset(string id) => Presets.FirstOrDefault(p => p.Id == id);

    public string ModelsRoot { get; } = modelsRoot;

    public IReadOnlyList<BaseModelInfo> List()
    {
        var models = Presets.Select(ToInfo).ToList();
        if (!System.IO.Directory.Exists(ModelsRoot)) return models;
        foreach (var dir in System.IO.Directory.EnumerateDirectories(ModelsRoot).Order(StringComparer.Ordinal))
            if (ReadCheckpoint(dir) is { } info && FindPreset(info.Id) is null) models.Add(info);
        return models;
    }

    public BaseModelInfo? Find(string id)
    {
        if (FindPreset(id) is { } preset) return ToInfo(preset);
        if (id.Length == 0 || id.IndexOfAny(['/', '\\', ':']) >= 0 || id is "." or "..") return null;
        return ReadCheckpoint(Path.Combine(ModelsRoot, id));
    }

    private static BaseModelInfo ToInfo(BaseModelPreset p) =>
        new(p.Id, BaseModelKinds.Preset, p.Architecture, p.Description, p.ParameterCount, PresetsCreated, null);

    private static BaseModelInfo? ReadCheckpoint(string dir)
    {
        var config = Path.Combine(dir, "config.json");
        if (!File.Exists(config)) return null;
        string architecture = "unknown";
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(config));
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String)
                architecture = type.GetString()!;
        }
        catch (JsonException) { return null; }
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(dir));
        return new BaseModelInfo(name, BaseModelKinds.Checkpoint, architecture, $"Hugging Face checkpoint '{name}' ({architecture}).",
            null, new DateTimeOffset(System.IO.Directory.GetCreationTimeUtc(dir), TimeSpan.Zero), Path.GetFullPath(dir));
    }
}
