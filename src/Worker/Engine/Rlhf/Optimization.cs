using TorchSharp;
using TuningService.Worker.Engine.Checkpoints;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Rlhf;

/// <summary>Model helpers shared by the RLHF methods.</summary>
internal static class Optimization
{
    /// <summary>A copy of a model with its own weights (LoRA adapters not copied), frozen and in eval mode.</summary>
    public static Models.CausalLanguageModel FrozenCopy(Models.CausalLanguageModel model)
    {
        var copy = HfCheckpoint.Create(model.Config);
        var source = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            foreach (var (name, p) in copy.named_parameters()) p.copy_(source[name]);
        }
        foreach (var (_, p) in copy.named_parameters()) p.requires_grad = false;
        copy.to(model.parameters().First().device);
        copy.eval();
        return copy;
    }
}
