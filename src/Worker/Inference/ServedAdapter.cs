using System.Text.Json.Nodes;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Models;
using static TorchSharp.torch;

namespace TuningService.Worker.Inference;

/// <summary>
/// A PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) held beside a resident base model, not merged
/// into it: <see cref="Apply"/> points the base's target layers at this adapter's A and B before a batch runs, so any
/// number of adapters share one copy of the base weights.
/// </summary>
public sealed class ServedAdapter : IDisposable
{
    private const string PeftPrefix = "base_model.model.";
    private readonly Dictionary<string, (Tensor A, Tensor B)> layers;
    private readonly double scale;

    private ServedAdapter(Dictionary<string, (Tensor A, Tensor B)> layers, double scale)
    {
        this.layers = layers;
        this.scale = scale;
    }

    public long Bytes => layers.Values.Sum(l => (l.A.numel() + l.B.numel()) * l.A.ElementSize);

    public static ServedAdapter Load(CausalLanguageModel model, string directory)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "adapter_config.json")))!.AsObject();
        double scale = config["lora_alpha"]!.GetValue<double>() / config["r"]!.GetValue<int>();
        var tensors = Safetensors.Read(Path.Combine(directory, "adapter_model.safetensors"));
        var device = model.parameters().First().device;
        var dtype = model.parameters().First().dtype;
        var layers = new Dictionary<string, (Tensor, Tensor)>();
        foreach (var (name, _) in model.LinearLayers())
        {
            if (!tensors.TryGetValue($"{PeftPrefix}{name}.lora_A.weight", out var a)) continue;
            if (!tensors.TryGetValue($"{PeftPrefix}{name}.lora_B.weight", out var b)) throw new InvalidDataException($"Adapter lacks {name}.lora_B.");
            layers[name] = (a.to(dtype, device).DetachFromDisposeScope(), b.to(dtype, device).DetachFromDisposeScope());
        }
        if (layers.Count == 0) throw new InvalidDataException($"Adapter in {directory} matches no layer of its base model.");
        return new ServedAdapter(layers, scale);
    }

    /// <summary>Adds the adapter's update (alpha / r) · B A to the base weights, for good: the model becomes the fine-tuned one.</summary>
    public static void MergeInto(CausalLanguageModel model, string directory)
    {
        using var adapter = Load(model, directory);
        using var _ = no_grad();
        foreach (var (name, layer) in model.LinearLayers())
            if (adapter.layers.TryGetValue(name, out var w)) layer.Weight.add_(w.B.matmul(w.A) * adapter.scale); // (out, r) (r, in)
    }

    /// <summary>Serves <paramref name="adapter"/> on <paramref name="model"/> for the next forward passes (null: the base alone).</summary>
    public static void Apply(CausalLanguageModel model, ServedAdapter? adapter)
    {
        foreach (var (name, layer) in model.LinearLayers())
            layer.ServedAdapter = adapter is not null && adapter.layers.TryGetValue(name, out var w) ? (w.A, w.B, adapter.scale) : null;
    }

    public void Dispose()
    {
        foreach (var (a, b) in layers.Values) { a.Dispose(); b.Dispose(); }
    }
}
