using System.Text.Json;

namespace TuningService.Domain.Jobs;

public sealed partial class TrainingJob
{
    /// <summary>validating_files → queued: the files were found fit for the method.</summary>
    public JobEvent MarkQueued(DateTimeOffset now)
    {
        Require("queued", JobStatus.ValidatingFiles);
        Status = JobStatus.Queued;
        return NewEvent(now, "Job queued.");
    }

    public JobEvent Succeed(DateTimeOffset now, string fineTunedModel, long trainedTokens, IEnumerable<string> resultFiles)
    {
        Require("marked succeeded", JobStatus.Running);
        Status = JobStatus.Succeeded;
        FinishedAt = now;
        FineTunedModel = fineTunedModel;
        TrainedTokens = trainedTokens;
        ResultFiles = resultFiles.ToList();
        EstimatedFinish = null;
        ReleaseLease();
        return NewEvent(now, "The job has successfully completed.");
    }

    public JobEvent Fail(DateTimeOffset now, JobError error)
    {
        Require("failed", JobStatus.ValidatingFiles, JobStatus.Queued, JobStatus.Running, JobStatus.Paused);
        Status = JobStatus.Failed;
        FinishedAt = now;
        (ErrorCode, ErrorMessage, ErrorParam) = (error.Code, error.Message, error.Param);
        EstimatedFinish = null;
        ReleaseLease();
        return NewEvent(now, $"Job failed: {error.Message}", "error");
    }

    /// <summary>
    /// A job not yet running is cancelled at once; a running one is flagged and the worker stops it
    /// within one optimizer step (then calls <see cref="ConfirmCancelled"/>).
    /// </summary>
    public JobEvent Cancel(DateTimeOffset now)
    {
        Require("cancelled", JobStatus.ValidatingFiles, JobStatus.Queued, JobStatus.Running, JobStatus.Paused);
        if (Status == JobStatus.Running)
        {
            CancelRequested = true;
            return NewEvent(now, "Cancellation requested; the worker will stop at the next optimizer step.");
        }
        return ConfirmCancelledCore(now);
    }

    public JobEvent ConfirmCancelled(DateTimeOffset now)
    {
        Require("cancelled", JobStatus.Running);
        return ConfirmCancelledCore(now);
    }

    /// <summary>A queued job pauses at once; a running one is flagged, checkpointed by its worker, then paused.</summary>
    public JobEvent Pause(DateTimeOffset now)
    {
        Require("paused", JobStatus.Queued, JobStatus.Running);
        if (Status == JobStatus.Running)
        {
            if (CancelRequested) throw new InvalidJobTransitionException(Id, "being cancelled", "paused");
            PauseRequested = true;
            return NewEvent(now, "Pause requested; the worker will checkpoint and pause at the next optimizer step.");
        }
        Status = JobStatus.Paused;
        return NewEvent(now, "Job paused.");
    }

    public JobEvent ConfirmPaused(DateTimeOffset now, int step)
    {
        Require("paused", JobStatus.Running);
        Status = JobStatus.Paused;
        PauseRequested = false;
        EstimatedFinish = null;
        ReleaseLease();
        return NewEvent(now, $"Job paused at step {step}.");
    }

    /// <summary>paused → queued; training continues from the newest checkpoint.</summary>
    public JobEvent Resume(DateTimeOffset now)
    {
        Require("resumed", JobStatus.Paused);
        Status = JobStatus.Queued;
        return NewEvent(now, "Job resumed; it will continue from its newest checkpoint.");
    }

    /// <summary>running → queued: the worker is shutting down and hands the job back after checkpointing.</summary>
    public JobEvent Requeue(DateTimeOffset now, string reason)
    {
        Require("requeued", JobStatus.Running);
        if (CancelRequested) return ConfirmCancelledCore(now);
        Status = PauseRequested ? JobStatus.Paused : JobStatus.Queued;
        PauseRequested = false;
        ReleaseLease();
        return NewEvent(now, $"Job requeued: {reason}");
    }

    public JobEvent RecordEvent(DateTimeOffset now, string message, string level = "info") => NewEvent(now, message, level);

    public JobEvent RecordMetrics(DateTimeOffset now, JsonDocument metrics, string message) => new()
    {
        JobId = Id, CreatedAt = now, Type = EventTypes.Metrics, Message = message, Data = metrics,
    };

    private JobEvent ConfirmCancelledCore(DateTimeOffset now)
    {
        Status = JobStatus.Cancelled;
        FinishedAt = now;
        CancelRequested = false;
        PauseRequested = false;
        EstimatedFinish = null;
        ReleaseLease();
        return NewEvent(now, "Job cancelled.");
    }

    private void Require(string action, params string[] allowed)
    {
        if (!allowed.Contains(Status)) throw new InvalidJobTransitionException(Id, Status, action);
    }

    private JobEvent NewEvent(DateTimeOffset now, string message, string level = "info") =>
        new() { JobId = Id, CreatedAt = now, Message = message, Level = level };
}
