using System.Text.Json.Nodes;
using TorchSharp;
using TuningService.Worker.Engine.Models;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Checkpoints;

/// <summary>
/// Model weights in Hugging Face layout: config.json plus model.safetensors, or shards listed in
/// model.safetensors.index.json. GPT-2's Conv1D weights are (in, out) on disk and (out, in) in memory.
/// </summary>
public static class HfCheckpoint
{
    private static readonly string[] Conv1DWeights = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"];

    /// <summary>Builds the model a directory describes and loads its weights (float32 on the CPU unless told otherwise).</summary>
    public static CausalLanguageModel Load(string directory, ScalarType dtype = ScalarType.Float32)
    {
        var config = HfConfig.Read(directory);
        var model = Create(config);
        LoadWeights(model, directory);
        if (dtype != ScalarType.Float32) model.to(dtype);
        return model;
    }

    /// <summary>An uninitialised model of the given shape.</summary>
    public static CausalLanguageModel Create(ModelConfig config) => config.Architecture switch
    {
        ModelArchitecture.Gpt2 => new Gpt2Model(config),
        _ => new LlamaModel(config),
    };

    /// <summary>Copies every weight of a checkpoint directory into the model; throws naming any missing or misshapen tensor.</summary>
    public static void LoadWeights(CausalLanguageModel model, string directory)
    {
        var ours = model.named_parameters().Where(p => !IsLora(p.name)).ToDictionary(p => p.name, p => p.parameter);
        var loaded = new HashSet<string>();
        using var _ = no_grad();
        foreach (var file in WeightFiles(directory))
        {
            foreach (var (hfName, tensor) in Safetensors.Read(file))
            {
                using (tensor)
                {
                    var name = ToOurName(model.Config, hfName);
                    if (name is null || !ours.TryGetValue(name, out var parameter)) continue;
                    var value = IsConv1D(model.Config, name) ? tensor.t() : tensor;
                    if (!value.shape.SequenceEqual(parameter.shape))
                        throw new InvalidDataException($"Tensor {hfName} has shape [{string.Join(",", value.shape)}], expected [{string.Join(",", parameter.shape)}].");
                    parameter.copy_(value);
                    loaded.Add(name);
                }
            }
        }
        var missing = ours.Keys.Where(k => !loaded.Contains(k)).ToList();
        // A *ForSequenceClassification checkpoint scores with its own head and has no lm_head, which then stays unused.
        if (missing is ["lm_head.weight"] && IsSequenceClassification(directory)) missing.Clear();
        if (missing.Count > 0) throw new InvalidDataException($"Checkpoint in {directory} lacks {missing.Count} tensors, e.g. {missing[0]}.");
    }

    /// <summary>Whether config.json names a *ForSequenceClassification architecture (a reward model, not a language model).</summary>
    public static bool IsSequenceClassification(string directory)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "config.json")))!.AsObject();
        return config["architectures"] is JsonArray a && a.Any(n => n?.GetValue<string>().EndsWith("ForSequenceClassification") == true);
    }

    /// <summary>
    /// Writes config.json and the weights in HF layout; LoRA adapters are merged into the saved weights.
    /// Files larger than <paramref name="maxShardBytes"/> are split into model-0000i-of-0000n.safetensors with an index.
    /// </summary>
    public static void Save(CausalLanguageModel model, string directory, ScalarType? dtype = null, long maxShardBytes = 2L << 30)
    {
        Directory.CreateDirectory(directory);
        var saveDtype = dtype ?? Safetensors.ParseTorchDtype(model.Config.TorchDtype);
        HfConfig.Write(directory, model.Config with { TorchDtype = Safetensors.TorchDtypeName(saveDtype) });
        using var scope = NewDisposeScope();
        var merged = model.LinearLayers().ToDictionary(l => l.Name + ".weight", l => l.Layer.MergedWeight());
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (IsLora(name)) continue;
            var value = merged.TryGetValue(name, out var m) ? m : parameter.detach();
            if (IsConv1D(model.Config, name)) value = value.t();
            tensors[name] = value.to(saveDtype).contiguous();
        }
        WriteSharded(directory, tensors, maxShardBytes);
    }

    private static void WriteSharded(string directory, Dictionary<string, Tensor> tensors, long maxShardBytes)
    {
        var shards = new List<Dictionary<string, Tensor>> { new() };
        long current = 0;
        foreach (var (name, t) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            long size = t.numel() * t.ElementSize;
            if (current > 0 && current + size > maxShardBytes) { shards.Add(new()); current = 0; }
            shards[^1][name] = t;
            current += size;
        }
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        if (shards.Count == 1)
        {
            Safetensors.Write(Path.Combine(directory, "model.safetensors"), shards[0], metadata);
            return;
        }
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            var file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            Safetensors.Write(Path.Combine(directory, file), shards[i], metadata);
            foreach (var name in shards[i].Keys) weightMap[name] = file;
        }
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = tensors.Values.Sum(t => t.numel() * t.ElementSize) },
            ["weight_map"] = weightMap,
        };
        File.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"), index.ToJsonString(new() { WriteIndented = true }));
    }

    /// <summary>The safetensors files of a checkpoint: the single file, or the shards of the index.</summary>
    public static IReadOnlyList<string> WeightFiles(string directory)
    {
        var single = Path.Combine(directory, "model.safetensors");
        if (File.Exists(single)) return [single];
        var indexPath = Path.Combine(directory, "model.safetensors.index.json");
        if (!File.Exists(indexPath)) throw new FileNotFoundException($"No model.safetensors or model.safetensors.index.json in {directory}.");
        var map = JsonNode.Parse(File.ReadAllText(indexPath))!["weight_map"]!.AsObject();
        return map.Select(kv => kv.Value!.GetValue<string>()).Distinct().Order(StringComparer.Ordinal).Select(f => Path.Combine(directory, f)).ToList();
    }

    /// <summary>HF key to our parameter name; null for keys we ignore (causal-mask buffers, tied heads, rotary caches).</summary>
    internal static string? ToOurName(ModelConfig config, string hfName)
    {
        if (hfName.EndsWith(".attn.bias") || hfName.EndsWith(".attn.masked_bias") || hfName.EndsWith("rotary_emb.inv_freq")) return null;
        if (hfName == "lm_head.weight") return config.TieWordEmbeddings ? null : hfName;
        if (config.Architecture == ModelArchitecture.Gpt2)
            return hfName.StartsWith("transformer.") ? hfName : "transformer." + hfName;
        return hfName.StartsWith("model.") ? hfName : "model." + hfName;
    }

    private static bool IsConv1D(ModelConfig config, string name)
        => config.Architecture == ModelArchitecture.Gpt2 && Conv1DWeights.Any(name.EndsWith);

    internal static bool IsLora(string name) => name.EndsWith(".lora_A") || name.EndsWith(".lora_B");
}
