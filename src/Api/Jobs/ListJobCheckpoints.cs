using TuningService.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Jobs;

/// <summary><c>GET /v1/fine_tuning/jobs/{id}/checkpoints?after=&amp;limit=</c>: newest (highest step) first, with metrics.</summary>
public static class ListJobCheckpoints
{
    public static async Task<Results<Ok<ListResponse<JobCheckpointObject>>, JsonHttpResult<ErrorResponse>>> Handle(
        string id, [AsParameters] PageQuery page, CallerContext caller, TuningDbContext db, CancellationToken ct)
    {
        if (!await db.Jobs.AnyAsync(j => j.Id == id && j.ProjectId == caller.ProjectId, ct)) return ApiErrors.NotFound("fine-tuning job", id);
        var after = page.After;

        var checkpoints = db.Checkpoints.AsNoTracking().Where(c => c.JobId == id);
        if (after is not null)
        {
            var anchor = await checkpoints.Where(c => c.Id == after).Select(c => (int?)c.Step).SingleOrDefaultAsync(ct);
            if (anchor is null) return ApiErrors.BadRequest($"No checkpoint '{after}' in job {id}.", "after", "invalid_cursor");
            checkpoints = checkpoints.Where(c => c.Step < anchor);
        }
        return TypedResults.Ok(await checkpoints.OrderByDescending(c => c.Step).ToPageAsync(page.Take, JobCheckpointObject.From, c => c.Id, ct));
    }
}
