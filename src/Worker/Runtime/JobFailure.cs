using TorchSharp;
using TuningService.Domain.Jobs;

namespace TuningService.Worker.Runtime;

/// <summary>A failure the user can act on, with the stable code the job's <c>error</c> will carry.</summary>
public sealed class JobFailureException(JobError error, Exception? inner = null) : Exception(error.Message, inner)
{
    public JobError Error { get; } = error;
}

public static class JobFailures
{
    public const string InvalidTrainingFile = "invalid_training_file";
    public const string InvalidValidationFile = "invalid_validation_file";
    public const string InvalidReferenceFile = "invalid_reference_file";
    /// <summary>PPO: a rollout's mean KL to the reference passed kl_budget (the policy drifted too far: reward hacking).</summary>
    public const string KlBudgetExceeded = "kl_budget_exceeded";
    public const string ExampleTooLong = "example_too_long";
    public const string OutOfMemory = "out_of_memory";
    public const string ModelLoadFailed = "model_load_failed";
    public const string WorkerCrashed = "worker_crashed";
    public const string ArtifactStoreUnavailable = "artifact_store_unavailable";
    public const string InvalidHyperparameters = "invalid_hyperparameters";
    public const string InternalError = "internal_error";

    public static JobFailureException Fail(string code, string message, string? param = null, Exception? inner = null) =>
        new(new JobError(code, message, param), inner);

    /// <summary>Turns whatever a run threw into the error its user sees.</summary>
    public static JobError Classify(Exception exception)
    {
        if (exception is JobFailureException failure) return failure.Error;
        if (IsOutOfMemory(exception))
            return new JobError(OutOfMemory, "Training ran out of memory. Lower batch_size or max_seq_length, use LoRA, or choose a smaller model.", "method");
        if (IsDiskProblem(exception))
            return new JobError(ArtifactStoreUnavailable,
                $"The artifact store could not be written ({exception.Message}). Free disk space or fix its permissions, then create the job again.");
        return new JobError(InternalError, $"Training failed unexpectedly: {exception.GetType().Name}: {exception.Message}");
    }

    private static bool IsOutOfMemory(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is OutOfMemoryException) return true;
            if (e is System.Runtime.InteropServices.ExternalException or InvalidOperationException && e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)) return true;
            if (e.Message.Contains("DefaultCPUAllocator: can't allocate memory", StringComparison.Ordinal)) return true;
        }
        return false;
    }

    private static bool IsDiskProblem(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is UnauthorizedAccessException) return true;
            if (e is IOException io && (io.HResult & 0xFFFF) is 28 or 122 or 13 or 30 // ENOSPC, EDQUOT, EACCES, EROFS
                || e is IOException { Message: var m } && (m.Contains("No space left", StringComparison.Ordinal) || m.Contains("Permission denied", StringComparison.Ordinal) || m.Contains("Read-only file system", StringComparison.Ordinal)))
                return true;
        }
        return false;
    }
}
