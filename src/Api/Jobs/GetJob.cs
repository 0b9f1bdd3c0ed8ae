using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Jobs;

/// <summary><c>GET /v1/fine_tuning/jobs/{id}</c>: poll one job. Another project's job is a 404.</summary>
public static class GetJob
{
    public static async Task<Results<Ok<JobObject>, JsonHttpResult<ErrorResponse>>> Handle(
        string id, CallerContext caller, TuningDbContext db, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id && j.ProjectId == caller.ProjectId, ct);
        return job is null ? ApiErrors.NotFound("fine-tuning job", id) : TypedResults.Ok(JobObject.From(job));
    }
}
