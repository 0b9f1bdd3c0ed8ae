using System.Text.Json.Nodes;
using TorchSharp;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Checkpoints;

/// <summary>
/// LoRA adapters attached to a model, saved and loaded in PEFT's format: adapter_config.json and
/// adapter_model.safetensors with keys "base_model.model.{layer}.lora_A.weight" (A: (r, in), B: (out, r)).
/// </summary>
public static class LoraAdapter
{
    private const string PeftPrefix = "base_model.model.";

    /// <summary>Metadata key of adapter_model.safetensors holding the service's id of the base model.</summary>
    public const string ServiceBaseModelKey = "tuning_service_base_model";

    /// <summary>
    /// Freezes every base weight and attaches adapters (A drawn from the global generator, B = 0) to the named layers
    /// (the spec's target_modules; PEFT's per-architecture default is filled in by the Domain's resolver).
    /// </summary>
    public static void Attach(CausalLanguageModel model, LoraSettings settings)
    {
        var targets = settings.TargetModules;
        foreach (var (_, p) in model.named_parameters()) p.requires_grad = false;
        int attached = 0;
        foreach (var (name, layer) in model.LinearLayers())
        {
            if (!targets.Contains(name[(name.LastIndexOf('.') + 1)..])) continue;
            layer.AttachLora(settings.Rank, settings.Alpha, settings.Dropout);
            attached++;
        }
        if (attached == 0) throw new ArgumentException($"No linear layer matches target_modules [{string.Join(", ", targets)}].");
    }

    /// <summary>
    /// Writes the adapter. <c>base_model_name_or_path</c> names the base's own Hugging Face name where it has one (so
    /// PEFT's AutoPeftModelForCausalLM finds it), else <paramref name="baseModel"/>, the service's id of the base, which
    /// the weights' metadata always records.
    /// </summary>
    public static void Save(CausalLanguageModel model, LoraSettings settings, string directory, string baseModel)
    {
        Directory.CreateDirectory(directory);
        var targets = settings.TargetModules;
        var config = new JsonObject
        {
            ["peft_type"] = "LORA", ["task_type"] = "CAUSAL_LM", ["base_model_name_or_path"] = model.Config.NameOrPath ?? baseModel,
            ["r"] = settings.Rank, ["lora_alpha"] = settings.Alpha, ["lora_dropout"] = settings.Dropout,
            ["target_modules"] = new JsonArray(targets.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
            ["bias"] = "none", ["fan_in_fan_out"] = model.Config.Architecture == ModelArchitecture.Gpt2,
            ["inference_mode"] = true, ["init_lora_weights"] = true, ["modules_to_save"] = null,
        };
        File.WriteAllText(Path.Combine(directory, "adapter_config.json"), config.ToJsonString(new() { WriteIndented = true }));
        Safetensors.Write(Path.Combine(directory, "adapter_model.safetensors"), AdapterTensors(model),
            new Dictionary<string, string> { ["format"] = "pt", [ServiceBaseModelKey] = baseModel });
    }

    /// <summary>Adapter weights under PEFT key names.</summary>
    public static Dictionary<string, Tensor> AdapterTensors(CausalLanguageModel model)
        => model.named_parameters().Where(p => HfCheckpoint.IsLora(p.name))
            .ToDictionary(p => PeftPrefix + p.name + ".weight", p => (Tensor)p.parameter.detach());

    /// <summary>Reads adapter_config.json and attaches + fills adapters from adapter_model.safetensors.</summary>
    public static LoraSettings Load(CausalLanguageModel model, string directory)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "adapter_config.json")))!.AsObject();
        var settings = new LoraSettings
        {
            Rank = json["r"]!.GetValue<int>(),
            Alpha = json["lora_alpha"]!.GetValue<double>(),
            Dropout = json["lora_dropout"]?.GetValue<double>() ?? 0,
            TargetModules = json["target_modules"]!.AsArray().Select(t => t!.GetValue<string>()).ToList(),
        };
        Attach(model, settings);
        LoadWeights(model, Safetensors.Read(Path.Combine(directory, "adapter_model.safetensors")));
        return settings;
    }

    /// <summary>Copies adapter tensors (PEFT names) into already attached adapters.</summary>
    public static void LoadWeights(CausalLanguageModel model, Dictionary<string, Tensor> tensors)
    {
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters().Where(p => HfCheckpoint.IsLora(p.name)))
        {
            var key = PeftPrefix + name + ".weight";
            if (!tensors.TryGetValue(key, out var value)) throw new InvalidDataException($"Adapter lacks {key}.");
            p.copy_(value);
        }
        foreach (var t in tensors.Values) t.Dispose();
    }
}
