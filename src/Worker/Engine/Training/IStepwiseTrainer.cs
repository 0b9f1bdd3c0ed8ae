namespace TuningService.Worker.Engine.Training;

/// <summary>A sampled response shown in a job's events, with the score it got.</summary>
public sealed record SampledResponse(string Prompt, string Response, double Score);

/// <summary>Validation metrics (keys prefixed valid_, or exact_match_accuracy) and, for generative methods, a few sampled responses.</summary>
public sealed record Evaluation(IReadOnlyDictionary<string, double?> Metrics, IReadOnlyList<SampledResponse> Samples);

/// <summary>
/// A training run (supervised, reward model, PPO, DPO) that the worker runtime drives one optimizer step (or PPO
/// update) at a time, so it can stop, evaluate and checkpoint between steps. The data position is a function of
/// <see cref="Step"/> alone, so <see cref="SaveState"/> + <see cref="LoadState"/> continue an uninterrupted run exactly.
/// </summary>
public interface IStepwiseTrainer : IDisposable
{
    /// <summary>Optimizer steps (PPO: updates) completed.</summary>
    int Step { get; }
    int TotalSteps { get; }
    /// <summary>Epochs done so far, fractional.</summary>
    double Epoch { get; }
    /// <summary>Input tokens (padding excluded) trained on since the start of the run.</summary>
    long TrainedTokens { get; }

    /// <summary>Trains one step. Reads nothing off the device: its metrics stay there until <see cref="ReadMetrics"/>.</summary>
    void TrainStep();

    /// <summary>
    /// The training metrics as of the last step (the supervised trainer averages loss and token accuracy over all steps
    /// since the previous call). CPU-GPU sync point: call at log steps only.
    /// </summary>
    IReadOnlyDictionary<string, double?> ReadMetrics();

    Evaluation Evaluate();

    /// <summary>Writes the trained weights, optimizer moments, RNG and position atomically (see <see cref="TrainingCheckpoint"/>).</summary>
    void SaveState(string directory);

    /// <summary>Continues from <see cref="SaveState"/>'s directory; the trainer must be built from the same spec and data as the original.</summary>
    void LoadState(string directory);
}
