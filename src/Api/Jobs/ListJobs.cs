using TuningService.Api.Infrastructure;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Jobs;

/// <summary><c>GET /v1/fine_tuning/jobs?after=&amp;limit=&amp;metadata[k]=v</c>: the project's jobs, newest first.</summary>
public static class ListJobs
{
    public static async Task<Results<Ok<ListResponse<JobObject>>, JsonHttpResult<ErrorResponse>>> Handle(
        HttpRequest request, CallerContext caller, TuningDbContext db, string? after, int? limit, CancellationToken ct)
    {
        if (Paging.CheckLimit(limit) is { } limitError) return limitError;
        var take = limit ?? Paging.DefaultLimit;
        var projectId = caller.ProjectId;

        var metadata = request.Query
            .Where(q => q.Key.StartsWith("metadata[", StringComparison.Ordinal) && q.Key.EndsWith(']'))
            .ToDictionary(q => q.Key["metadata[".Length..^1], q => q.Value.ToString());

        // metadata is a jsonb column behind a value converter: filter with jsonb containment in SQL (xmin is a system column, so name it).
        var jobs = metadata.Count == 0
            ? db.Jobs.AsQueryable()
            : db.Jobs.FromSql($"SELECT *, xmin FROM training_jobs WHERE metadata @> {JsonSerializer.Serialize(metadata)}::jsonb");
        jobs = jobs.AsNoTracking().Where(j => j.ProjectId == projectId);

        if (after is not null)
        {
            var anchor = await db.Jobs.AsNoTracking().Where(j => j.Id == after && j.ProjectId == projectId)
                .Select(j => new { j.CreatedAt, j.Id }).SingleOrDefaultAsync(ct);
            if (anchor is null) return ApiErrors.BadRequest($"No job '{after}' to list after.", "after", "invalid_cursor");
            jobs = jobs.Where(j => j.CreatedAt < anchor.CreatedAt || (j.CreatedAt == anchor.CreatedAt && string.Compare(j.Id, anchor.Id) < 0));
        }

        var page = await jobs.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(ListResponse<JobObject>.Page(page, take, JobObject.From, j => j.Id));
    }
}

internal static class Paging
{
    public const int DefaultLimit = 20, MaxLimit = 100;

    public static JsonHttpResult<ErrorResponse>? CheckLimit(int? limit) =>
        limit is < 1 or > MaxLimit ? ApiErrors.BadRequest($"limit must be between 1 and {MaxLimit}.", "limit") : null;
}
