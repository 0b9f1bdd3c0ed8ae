namespace TuningService.Domain.Jobs;

/// <summary>
/// The keys of a job's metrics (metrics events, checkpoint metrics, the results CSV), named as OpenAI names them.
/// Training-batch metrics start with <c>train_</c>, validation metrics with <c>valid_</c>; one name per quantity.
/// </summary>
public static class MetricNames
{
    /// <summary>Mean loss per label token over the training steps since the previous report.</summary>
    public const string TrainLoss = "train_loss";
    /// <summary>Fraction of training label tokens predicted exactly (argmax), over the steps since the previous report.</summary>
    public const string TrainMeanTokenAccuracy = "train_mean_token_accuracy";
    public const string ValidLoss = "valid_loss";
    /// <summary>Fraction of validation label tokens predicted exactly (argmax).</summary>
    public const string ValidMeanTokenAccuracy = "valid_mean_token_accuracy";
    public const string FullValidLoss = "full_valid_loss";
    public const string FullValidMeanTokenAccuracy = "full_valid_mean_token_accuracy";
    /// <summary>Fraction of short validation completions reproduced exactly by greedy generation.</summary>
    public const string ExactMatchAccuracy = "exact_match_accuracy";
    /// <summary>Reward model: fraction of training pairs whose chosen response scored higher (validation: valid_accuracy).</summary>
    public const string PairwiseAccuracy = "accuracy";
    public const string LearningRate = "learning_rate";
    /// <summary>Global gradient L2 norm before clipping, at the reporting step.</summary>
    public const string GradNorm = "grad_norm";
    /// <summary>Input tokens (padding excluded) per second of training since the previous report.</summary>
    public const string TokensPerSecond = "tokens_per_second";
    /// <summary>Input tokens (padding excluded) trained on since the start of the run.</summary>
    public const string TrainedTokens = "trained_tokens";
    /// <summary>
    /// CUDA jobs only: the most GPU memory (MiB) this worker process has held since the run (or its resume) started, as
    /// NVML reports it (CUDA context and the caching allocator's reserve included). Absent on the CPU.
    /// </summary>
    public const string PeakDeviceMemoryMb = "peak_device_memory_mb";

    // Guards against the seed's pitfalls.
    /// <summary>Lowest validation loss seen so far (at every evaluation).</summary>
    public const string BestValidLoss = "best_valid_loss";
    /// <summary>The step whose weights the job publishes (the best checkpoint by validation loss, or the last step); on the final report.</summary>
    public const string PublishedStep = "published_step";
    /// <summary>Mean loss per token on the job's reference_file (general text the model should not forget).</summary>
    public const string ReferenceLoss = "reference_loss";
    /// <summary>Relative rise of reference_loss since before training: (now − before) / before; 0.1 = 10% worse.</summary>
    public const string Forgetting = "forgetting";
    /// <summary>PPO: the KL penalty coefficient used by the last update (moves when kl_target is set).</summary>
    public const string KlCoef = "objective/kl_coef";
    /// <summary>PPO: mean response length minus that of the run's first rollout, in tokens (a length-exploiting policy drifts).</summary>
    public const string ResponseLengthDrift = "val/response_length_drift";
    /// <summary>PPO: mean reward-model score minus that of the run's first rollout.</summary>
    public const string ScoreGain = "objective/score_gain";
    /// <summary>PPO: score gain per nat of KL to the reference (reward vs KL); reported once the KL exceeds 0.01.</summary>
    public const string ScoreGainPerKl = "objective/score_gain_per_kl";

    /// <summary>The validation name of a training metric: train_loss → valid_loss, accuracy → valid_accuracy.</summary>
    public static string Valid(string trainName) => "valid_" + (trainName.StartsWith("train_", StringComparison.Ordinal) ? trainName[6..] : trainName);

    /// <summary>
    /// The results CSV's columns as OpenAI writes them (step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy),
    /// each with the metrics it is read from, first present wins.
    /// </summary>
    public static readonly IReadOnlyList<(string Column, string[] Metrics)> ResultsCsvColumns =
    [
        ("train_loss", [TrainLoss]),
        ("train_accuracy", [TrainMeanTokenAccuracy, PairwiseAccuracy]),
        ("valid_loss", [ValidLoss]),
        ("valid_mean_token_accuracy", [ValidMeanTokenAccuracy]),
    ];
}
