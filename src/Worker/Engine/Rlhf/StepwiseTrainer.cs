using System.Text.Json;
using TorchSharp;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Rlhf;

/// <summary>A sampled response shown in a job's events, with the score it got.</summary>
public sealed record SampledResponse(string Prompt, string Response, double Score);

/// <summary>Validation metrics (keys prefixed valid_) and, for generative methods, a few sampled responses.</summary>
public sealed record RlhfEvaluation(IReadOnlyDictionary<string, double?> Metrics, IReadOnlyList<SampledResponse> Samples);

/// <summary>
/// A training run the worker runtime drives one optimizer step (or PPO update) at a time, so it can stop,
/// evaluate and checkpoint between steps. The data position is a function of <see cref="Step"/> alone.
/// </summary>
public interface IStepwiseTrainer : IDisposable
{
    int Step { get; }
    int TotalSteps { get; }
    /// <summary>Epochs done so far, fractional.</summary>
    double Epoch { get; }
    /// <summary>Input tokens (padding excluded) trained on since the start of the run.</summary>
    long TrainedTokens { get; }

    /// <summary>Trains one step and returns its metrics (reading them is a sync point).</summary>
    IReadOnlyDictionary<string, double?> TrainStep();

    RlhfEvaluation Evaluate();

    /// <summary>Writes weights of every trained module, optimizer moments, step and RNG atomically.</summary>
    void SaveState(string directory);

    /// <summary>Continues from <see cref="SaveState"/>'s directory; the trainer must be built exactly as the original was.</summary>
    void LoadState(string directory);
}

/// <summary>
/// The on-disk state of a stepwise run: trained weights by name (weights.safetensors), optimizer moments
/// (optimizer.safetensors) and trainer_state.json (step, tokens, torch RNG), written atomically.
/// </summary>
public static class RlhfCheckpoint
{
    public const string StateFile = "trainer_state.json";
    private const string WeightsFile = "weights.safetensors";
    private const string OptimizerFile = "optimizer.safetensors";
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>Configuration is the run's hyperparameters, saved for the record (a resumed run rebuilds from the job spec).</summary>
    private sealed record State(string Method, int Step, int OptimizerSteps, long TrainedTokens, string TorchRngState, System.Text.Json.Nodes.JsonNode? Configuration);

    public static void Save(string directory, string method, nn.Module trained, AdamW optimizer, int step, long trainedTokens, object? configuration = null)
        => AtomicDirectory.Write(directory, temp =>
        {
            var weights = trained.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach());
            Safetensors.Write(Path.Combine(temp, WeightsFile), weights);
            Safetensors.Write(Path.Combine(temp, OptimizerFile), optimizer.StateTensors());
            var state = new State(method, step, optimizer.StepCount, trainedTokens, Convert.ToBase64String(get_rng_state().bytes),
                configuration is null ? null : JsonSerializer.SerializeToNode(configuration, Json));
            File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, Json));
        });

    /// <summary>Restores weights, optimizer and RNG; returns the step and trained tokens.</summary>
    public static (int Step, long TrainedTokens) Load(string directory, string method, nn.Module trained, AdamW optimizer)
    {
        var state = JsonSerializer.Deserialize<State>(File.ReadAllText(Path.Combine(directory, StateFile)), Json)
            ?? throw new InvalidDataException($"Empty {StateFile} in {directory}.");
        if (state.Method != method) throw new InvalidDataException($"The checkpoint in {directory} is from a {state.Method} run, not {method}.");
        var weights = Safetensors.Read(Path.Combine(directory, WeightsFile));
        using (no_grad())
        {
            foreach (var (name, p) in trained.named_parameters())
                p.copy_(weights.TryGetValue(name, out var w) ? w : throw new InvalidDataException($"The checkpoint lacks {name}."));
        }
        foreach (var t in weights.Values) t.Dispose();
        var moments = Safetensors.Read(Path.Combine(directory, OptimizerFile));
        optimizer.LoadState(moments, state.OptimizerSteps);
        foreach (var t in moments.Values) t.Dispose();
        var bytes = Convert.FromBase64String(state.TorchRngState);
        var rng = empty(bytes.LongLength, ScalarType.Byte);
        rng.bytes = bytes;
        set_rng_state(rng);
        return (state.Step, state.TrainedTokens);
    }
}

/// <summary>Optimizer-step helpers shared by the RLHF trainers.</summary>
internal static class Optimization
{
    /// <summary>Scales gradients so their global L2 norm is at most maxNorm (0: no clipping); returns the norm before clipping.</summary>
    public static Tensor ClipGradients(AdamW optimizer, double maxNorm)
    {
        var grads = optimizer.Parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return zeros(1);
        var norm = stack(grads.Select(g => g.norm()).ToArray()).norm();
        if (maxNorm > 0)
        {
            var coefficient = (maxNorm / (norm + 1e-6)).clamp_max(1.0);
            foreach (var g in grads) g.mul_(coefficient);
        }
        return norm;
    }

    public static IEnumerable<(string Name, TorchSharp.Modules.Parameter Param)> Trainable(nn.Module module)
        => module.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter));

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
