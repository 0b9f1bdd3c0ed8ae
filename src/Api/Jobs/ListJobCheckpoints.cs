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
        string id, string? after, int? limit, CallerContext caller, TuningDbContext db, CancellationToken ct)
    {
        if (Paging.CheckLimit(limit) is { } limitError) return limitError;
        if (!await db.Jobs.AnyAsync(j => j.Id == id && j.ProjectId == caller.ProjectId, ct)) return ApiErrors.NotFound("fine-tuning job", id);
        var take = limit ?? Paging.DefaultLimit;

        var checkpoints = db.Checkpoints.AsNoTracking().Where(c => c.JobId == id);
        if (after is not null)
        {
            var anchor = await checkpoints.Where(c => c.Id == after).Select(c => (int?)c.Step).SingleOrDefaultAsync(ct);
            if (anchor is null) return ApiErrors.BadRequest($"No checkpoint '{after}' in job {id}.", "after", "invalid_cursor");
            checkpoints = checkpoints.Where(c => c.Step < anchor);
        }
        var page = await checkpoints.OrderByDescending(c => c.Step).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(ListResponse<JobCheckpointObject>.Page(page, take, JobCheckpointObject.From, c => c.Id));
    }
}
