using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using TuningService.Worker.Engine.Checkpoints;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Training;

/// <summary>
/// The one on-disk state of every training run, written atomically (temp dir, fsync, rename):
/// trainer_state.json (method, position, counters, torch RNG, the run's configuration for the record),
/// optimizer.safetensors (AdamW moments), and the trained weights the trainer writes (a HF model directory or
/// PEFT adapter for supervised runs, so a checkpoint is also a servable model; weights.safetensors for RLHF modules).
/// A resumed run is rebuilt from the job's spec; the configuration saved here is only a record.
/// </summary>
public static class TrainingCheckpoint
{
    public const string StateFile = "trainer_state.json";
    private const string OptimizerFile = "optimizer.safetensors";
    private const string WeightsFile = "weights.safetensors";
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Position and counters; with the weights, optimizer moments and RNG it is the full state (the data position is a function of Step).</summary>
    /// <summary><paramref name="Values"/>: a trainer's own running state (PPO's adaptive KL coefficient); null when it has none.</summary>
    private sealed record State(string Method, int Step, int TotalSteps, int OptimizerSteps, long TrainedTokens, string TorchRngState, JsonNode? Configuration,
        Dictionary<string, double>? Values = null);

    /// <summary>The property of trainer_state.json holding the runtime's own state (what the run's guards have seen so far).</summary>
    private const string RunStateProperty = "run_state";

    /// <summary>Whether a directory holds a resumable state written by <see cref="Save"/>.</summary>
    public static bool Exists(string directory) =>
        File.Exists(Path.Combine(directory, StateFile)) && File.Exists(Path.Combine(directory, OptimizerFile));

    /// <summary>Deletes what only a resume needs (the optimizer moments); the weights and trainer_state.json stay.</summary>
    public static void DropResumeState(string directory)
    {
        try { File.Delete(Path.Combine(directory, OptimizerFile)); }
        catch (IOException) { /* best effort: a finished job's checkpoint is not resumed either way */ }
    }

    public static void Save(string directory, string method, int step, int totalSteps, long trainedTokens, AdamW optimizer,
        object configuration, Action<string> writeWeights, IReadOnlyDictionary<string, double>? values = null)
        => AtomicDirectory.Write(directory, temp =>
        {
            writeWeights(temp);
            Safetensors.Write(Path.Combine(temp, OptimizerFile), optimizer.StateTensors());
            var state = new State(method, step, totalSteps, optimizer.StepCount, trainedTokens, Convert.ToBase64String(get_rng_state().bytes),
                JsonSerializer.SerializeToNode(configuration, configuration.GetType(), Json), values?.ToDictionary());
            File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, Json));
        });

    /// <summary>
    /// Restores the trainer's weights (<paramref name="loadWeights"/>), the optimizer and the torch RNG; returns the step
    /// and trained tokens. Fails when the checkpoint is another method's or its run had another number of steps (other data).
    /// </summary>
    public static (int Step, long TrainedTokens) Load(string directory, string method, int totalSteps, AdamW optimizer, Action<string> loadWeights)
    {
        var state = ReadState(directory);
        if (state.Method != method) throw new InvalidDataException($"The checkpoint in {directory} is from a {state.Method} run, not {method}.");
        if (state.TotalSteps != totalSteps)
            throw new InvalidDataException($"The checkpoint in {directory} is from a run of {state.TotalSteps} steps, not {totalSteps}: the data or spec differ.");
        loadWeights(directory);
        var moments = Safetensors.Read(Path.Combine(directory, OptimizerFile));
        optimizer.LoadState(moments, state.OptimizerSteps);
        foreach (var t in moments.Values) t.Dispose();
        var bytes = Convert.FromBase64String(state.TorchRngState);
        using var rng = empty(bytes.LongLength, ScalarType.Byte);
        rng.bytes = bytes;
        set_rng_state(rng);
        return (state.Step, state.TrainedTokens);
    }

    /// <summary>The trainer's own running values saved with <see cref="Save"/> (empty when it saved none).</summary>
    public static IReadOnlyDictionary<string, double> ReadValues(string directory) =>
        ReadState(directory).Values ?? [];

    /// <summary>
    /// Adds the runtime's state (what the run's guards have seen: best validation loss, reference loss before training) to a
    /// checkpoint's trainer_state.json, replacing the file atomically (temp file, fsync, rename), before the checkpoint is registered.
    /// </summary>
    public static void WriteRunState(string directory, JsonNode runState)
    {
        var path = Path.Combine(directory, StateFile);
        var node = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        node[RunStateProperty] = runState.DeepClone();
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            stream.Write(System.Text.Encoding.UTF8.GetBytes(node.ToJsonString(Json)));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The runtime's state written by <see cref="WriteRunState"/>, or null for a checkpoint without one.</summary>
    public static JsonNode? ReadRunState(string directory)
    {
        var path = Path.Combine(directory, StateFile);
        return File.Exists(path) && JsonNode.Parse(File.ReadAllText(path)) is JsonObject node && node[RunStateProperty] is { } run ? run.DeepClone() : null;
    }

    private static State ReadState(string directory) =>
        JsonSerializer.Deserialize<State>(File.ReadAllText(Path.Combine(directory, StateFile)), Json)
            ?? throw new InvalidDataException($"Empty {StateFile} in {directory}.");

    /// <summary>Every parameter of <paramref name="trained"/> by name (the RLHF trainers' weights).</summary>
    public static void WriteParameters(string directory, nn.Module trained)
        => Safetensors.Write(Path.Combine(directory, WeightsFile), trained.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach()));

    public static void LoadParameters(string directory, nn.Module trained)
    {
        var weights = Safetensors.Read(Path.Combine(directory, WeightsFile));
        using (no_grad())
        {
            foreach (var (name, p) in trained.named_parameters())
                p.copy_(weights.TryGetValue(name, out var w) ? w : throw new InvalidDataException($"The checkpoint lacks {name}."));
        }
        foreach (var t in weights.Values) t.Dispose();
    }
}
