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
