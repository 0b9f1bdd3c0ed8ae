using TuningService.Api.Infrastructure;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Jobs;

/// <summary><c>GET /v1/fine_tuning/jobs?after=&amp;limit=&amp;metadata[k]=v</c>: the project's jobs, newest first.</summary>
public static class ListJobs
{
    public static async Task<Results<Ok<ListResponse<JobObject>>, JsonHttpResult<ErrorResponse>>> Handle(
        HttpRequest request, CallerContext caller, TuningDbContext db, [AsParameters] PageQuery page, CancellationToken ct)
    {
        var projectId = caller.ProjectId;
        var metadata = request.Query
            .Where(q => q.Key.StartsWith("metadata[", StringComparison.Ordinal) && q.Key.EndsWith(']'))
            .ToDictionary(q => q.Key["metadata[".Length..^1], q => q.Value.ToString());

        // metadata is a jsonb column behind a value converter: filter with jsonb containment in SQL (xmin is a system column, so name it).
        var jobs = metadata.Count == 0
            ? db.Jobs.AsQueryable()
            : db.Jobs.FromSql($"SELECT *, xmin FROM training_jobs WHERE metadata @> {JsonSerializer.Serialize(metadata)}::jsonb");
        jobs = jobs.AsNoTracking().Where(j => j.ProjectId == projectId);

        Cursor? cursor = null;
        // The cursor may be any of the project's jobs, also one the metadata filter leaves out.
        if (page.After is not null && (cursor = await db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId).FindCursorAsync(page.After, ct)) is null)
            return ApiErrors.BadRequest($"No job '{page.After}' to list after.", "after", "invalid_cursor");
        return TypedResults.Ok(await jobs.PageByCreationAsync(cursor, page.Take, oldestFirst: false, JobObject.From, j => j.Id, ct));
    }
}
