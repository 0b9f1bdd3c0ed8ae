using System.Text.Json;
using System.Text.Json.Nodes;
using TuningService.Domain.Datasets;
using TuningService.Domain.Jobs;
using TuningService.Domain.Jobs.Specs;
using TuningService.Worker.Engine.Training;

namespace TuningService.Worker.Runtime.Methods;

/// <summary>Early stopping on the validation loss: stop after <see cref="Patience"/> evaluations without a fall of at least <see cref="MinDelta"/>.</summary>
public sealed record EarlyStoppingSettings(int Patience, double MinDelta);

/// <summary>The run's guards against the seed's pitfalls, from the resolved spec (<see cref="HyperparameterMapping.Guards"/>).</summary>
public sealed record GuardSettings
{
    /// <summary>Null = train every step.</summary>
    public required EarlyStoppingSettings? EarlyStopping { get; init; }
    /// <summary>Publish the checkpoint with the lowest validation loss (saved when it was seen) instead of the last step's weights.</summary>
    public required bool PublishBest { get; init; }
    /// <summary>Relative rise of the reference text's loss that raises the forgetting warning.</summary>
    public required double ForgettingThreshold { get; init; }
}

/// <summary>What the guards have seen so far; saved in every checkpoint's trainer_state.json so a resumed run still knows it.</summary>
public sealed class GuardState
{
    public double? BestValidLoss { get; set; }
    public int? BestStep { get; set; }
    public double? LastValidLoss { get; set; }
    public int EvaluationsWithoutImprovement { get; set; }
    /// <summary>The first evaluation whose validation loss rose above the previous one's (reported once).</summary>
    public int? UpturnStep { get; set; }
    /// <summary>Where early stopping ended training; a run resumed after it only publishes.</summary>
    public int? StoppedAt { get; set; }
    public double? ReferenceLossBefore { get; set; }
    public int? ForgettingWarnedAt { get; set; }
    public int? LikelihoodWarnedAt { get; set; }
}

/// <summary>
/// Watches a run at every evaluation for the seed's pitfalls. Overfitting: the validation loss is tracked, the step where it
/// turns upward is named in an event, the best weights are checkpointed when seen (publish best), and early stopping ends the
/// run. Forgetting: the loss on the job's reference_file is measured before training and at each evaluation. DPO: a warning
/// when the chosen responses' log-probability falls while the margin grows. Driven by <see cref="StepwiseTrainingLoop"/>.
/// </summary>
public sealed class RunGuards(GuardSettings settings, ReferenceText? reference = null)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public GuardSettings Settings => settings;
    public GuardState State { get; private set; } = new();
    public bool Stopped => State.StoppedAt is not null;

    /// <summary>Guards for a job: its spec's settings, and its reference_file measured on <paramref name="model"/> (null = not a language model).</summary>
    public static RunGuards For(TrainingRun run, Domain.Jobs.Specs.TrainingHyperparameters spec, Engine.Models.CausalLanguageModel? model,
        Engine.Tokenization.TextTokenizer? tokenizer, Engine.Training.TrainingHyperparameters hp)
    {
        var settings = HyperparameterMapping.Guards(spec);
        if (JobSpecs.Of(run.Job).ReferenceFile is not { } fileId || model is null || tokenizer is null) return new RunGuards(settings);
        var texts = run.Datasets.ReadExamples(run.Job.ProjectId, fileId, "reference_file").Take(HyperparameterRanges.MaxReferenceLines)
            .Select(example => example is TextExample text ? text.Text
                : throw JobFailures.Fail(JobFailures.InvalidReferenceFile, $"{fileId} holds {example.GetType().Name.Replace("Example", "")} examples; reference_file needs text lines ({{\"text\": ...}}).", "reference_file"))
            .ToList();
        try
        {
            return new RunGuards(settings, new ReferenceText(model, tokenizer, texts, hp.MaxSeqLength, hp.BatchSize));
        }
        catch (InvalidOperationException e)
        {
            throw JobFailures.Fail(JobFailures.InvalidReferenceFile, $"{fileId}: {e.Message}", "reference_file", e);
        }
    }

    public JsonNode Save() => JsonSerializer.SerializeToNode(State, Json)!;

    /// <summary>Continues from a checkpoint's run state (null: a checkpoint written before guards, start afresh).</summary>
    public void Resume(JsonNode? saved)
    {
        if (saved is not null) State = saved.Deserialize<GuardState>(Json) ?? new GuardState();
    }

    /// <summary>Measures the reference text before the first step (once per job: a resumed run keeps the first measurement).</summary>
    public void Start(JobReporter reporter)
    {
        if (reference is null || State.ReferenceLossBefore is not null) return;
        State.ReferenceLossBefore = reference.Loss();
        reporter.Info($"Reference text loss before training: {State.ReferenceLossBefore:0.####} over {reference.Lines} lines; forgetting is its relative rise.",
            new Dictionary<string, object> { [MetricNames.ReferenceLoss] = Math.Round(State.ReferenceLossBefore.Value, 6), ["lines"] = reference.Lines });
    }

    /// <summary>
    /// Reads an evaluation's metrics at <paramref name="step"/> (adding best_valid_loss, reference_loss and forgetting to them).
    /// Returns whether the validation loss improved on the best so far, whether training should stop, and the warnings to report.
    /// </summary>
    public (bool Improved, bool Stop, List<string> Warnings) Evaluated(int step, Dictionary<string, double?> metrics)
    {
        var warnings = new List<string>();
        bool improved = false, stop = false;
        if (metrics.GetValueOrDefault(MetricNames.ValidLoss) is double loss && double.IsFinite(loss))
        {
            var minDelta = settings.EarlyStopping?.MinDelta ?? 0;
            if (State.LastValidLoss is double previous && loss > previous && State.UpturnStep is null)
            {
                State.UpturnStep = step;
                warnings.Add(($"Validation loss turned upward at step {step} ({previous:0.####} → {loss:0.####}; lowest {State.BestValidLoss:0.####} at step {State.BestStep}): " +
                    "the model has begun to fit the training examples rather than the task. " + (settings.EarlyStopping is { } e
                        ? $"Early stopping ends training after {e.Patience} evaluations without improvement."
                        : "Set early_stopping to stop here and publish the best checkpoint, or lower n_epochs or learning_rate.")));
            }
            if (State.BestValidLoss is not double best || loss < best - minDelta)
            {
                (State.BestValidLoss, State.BestStep, State.EvaluationsWithoutImprovement, improved) = (loss, step, 0, true);
            }
            else if (settings.EarlyStopping is { } early && ++State.EvaluationsWithoutImprovement >= early.Patience)
            {
                State.StoppedAt = step;
                stop = true;
            }
            State.LastValidLoss = loss;
            metrics[MetricNames.BestValidLoss] = State.BestValidLoss;
        }
        if (reference is not null && State.ReferenceLossBefore is double before)
        {
            var now = reference.Loss();
            var forgetting = (now - before) / before;
            metrics[MetricNames.ReferenceLoss] = now;
            metrics[MetricNames.Forgetting] = forgetting;
            if (forgetting > settings.ForgettingThreshold && State.ForgettingWarnedAt is null)
            {
                State.ForgettingWarnedAt = step;
                warnings.Add(($"Forgetting: the loss on the reference text rose {forgetting * 100:0.#}% at step {step} ({before:0.####} → {now:0.####}), " +
                    $"past the {settings.ForgettingThreshold * 100:0.#}% threshold: the model is losing what it knew beyond the training data. " +
                    "Lower learning_rate, train a LoRA adapter instead of every weight, train fewer epochs, or mix general text into the training file."));
            }
        }
        if (LikelihoodWarning(step, metrics) is { } likelihood) warnings.Add(likelihood);
        return (improved, stop, warnings);
    }

    /// <summary>The step whose weights will be published when the run ends at <paramref name="lastStep"/>.</summary>
    public int PublishedStep(int lastStep) => settings.PublishBest && State.BestStep is int best ? best : lastStep;

    /// <summary>
    /// DPO (Rafailov et al. 2023; Pal et al. 2024): the chosen responses' log-probability fell below the reference's (rewards/chosen
    /// &lt; 0) while the margin over the rejected ones grew: the loss falls by pushing both down, which degrades generation.
    /// </summary>
    private string? LikelihoodWarning(int step, Dictionary<string, double?> metrics)
    {
        var chosen = metrics.GetValueOrDefault("valid_rewards/chosen") ?? metrics.GetValueOrDefault("rewards/chosen");
        var margin = metrics.GetValueOrDefault("valid_rewards/margins") ?? metrics.GetValueOrDefault("rewards/margins");
        if (chosen is not double c || margin is not double m || c >= 0 || m <= 0 || State.LikelihoodWarnedAt is not null) return null;
        State.LikelihoodWarnedAt = step;
        return ($"At step {step} the chosen responses' log-probability has fallen below the reference's (rewards/chosen {c:0.####}) while the margin " +
            $"grew to {m:0.####}: the policy widens the gap by making both responses less likely, which can degrade its answers. " +
            "Lower learning_rate, raise beta, or fine-tune on the chosen responses (supervised) before DPO.");
    }
}
