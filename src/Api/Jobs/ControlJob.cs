using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;
using TuningService.Domain.Queue;

namespace TuningService.Api.Jobs;

/// <summary>
/// <c>POST …/cancel</c>, <c>…/pause</c>, <c>…/resume</c>: each is one domain transition saved with the xmin token
/// (retried on a concurrent change), an illegal move is a 409 naming the job's status.
/// </summary>
public static class ControlJob
{
    private const int Attempts = 3;

    /// <summary>queued/paused → cancelled at once; running → cancel requested (the worker confirms within one step).</summary>
    public static Task<Results<Ok<JobObject>, JsonHttpResult<ErrorResponse>>> Cancel(
        string id, CallerContext caller, TuningDbContext db, TrainingQueue queue, TimeProvider clock, CancellationToken ct) =>
        Apply(id, caller, db, clock, (job, now) => job.Cancel(now), job =>
        {
            if (job.Status == JobStatus.Cancelled) queue.Withdraw(job.HangfireJobId);
            return Task.CompletedTask;
        }, ct);

    /// <summary>queued → paused at once; running → pause requested (the worker checkpoints, then confirms).</summary>
    public static Task<Results<Ok<JobObject>, JsonHttpResult<ErrorResponse>>> Pause(
        string id, CallerContext caller, TuningDbContext db, TrainingQueue queue, TimeProvider clock, CancellationToken ct) =>
        Apply(id, caller, db, clock, (job, now) => job.Pause(now), job =>
        {
            if (job.Status == JobStatus.Paused) queue.Withdraw(job.HangfireJobId);
            return Task.CompletedTask;
        }, ct);

    /// <summary>paused → queued, and enqueued again; training continues from the newest checkpoint.</summary>
    public static Task<Results<Ok<JobObject>, JsonHttpResult<ErrorResponse>>> Resume(
        string id, CallerContext caller, TuningDbContext db, TrainingQueue queue, TimeProvider clock, CancellationToken ct) =>
        Apply(id, caller, db, clock, (job, now) => job.Resume(now), async job =>
        {
            if (await queue.EnqueueAsync(db, job.Id, job.HangfireJobId, CancellationToken.None) is { } hangfireId) job.HangfireJobId = hangfireId;
        }, ct);

    private static async Task<Results<Ok<JobObject>, JsonHttpResult<ErrorResponse>>> Apply(
        string id, CallerContext caller, TuningDbContext db, TimeProvider clock,
        Func<TrainingJob, DateTimeOffset, JobEvent> transition, Func<TrainingJob, Task> afterCommit, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var job = await db.Jobs.SingleOrDefaultAsync(j => j.Id == id && j.ProjectId == caller.ProjectId, ct);
            if (job is null) return ApiErrors.NotFound("fine-tuning job", id);
            try
            {
                db.JobEvents.Add(transition(job, clock.GetUtcNow()));
                await db.SaveChangesAsync(ct);
            }
            catch (InvalidJobTransitionException ex)
            {
                return ApiErrors.Conflict(ex.Message, "invalid_state");
            }
            catch (DbUpdateConcurrencyException) when (attempt < Attempts)
            {
                db.ChangeTracker.Clear(); // a worker changed the job meanwhile: decide again on its new state
                continue;
            }
            await afterCommit(job);
            return TypedResults.Ok(JobObject.From(job));
        }
    }
}
