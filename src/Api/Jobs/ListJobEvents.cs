using TuningService.Api.Infrastructure;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Jobs;

/// <summary><c>GET /v1/fine_tuning/jobs/{id}/events?after=ftevent-N&amp;limit=</c>: newest first, like OpenAI.</summary>
public static class ListJobEvents
{
    public static async Task<Results<Ok<ListResponse<JobEventObject>>, JsonHttpResult<ErrorResponse>>> Handle(
        string id, string? after, int? limit, CallerContext caller, TuningDbContext db, CancellationToken ct)
    {
        if (Paging.CheckLimit(limit) is { } limitError) return limitError;
        if (!await db.Jobs.AnyAsync(j => j.Id == id && j.ProjectId == caller.ProjectId, ct)) return ApiErrors.NotFound("fine-tuning job", id);
        var take = limit ?? Paging.DefaultLimit;

        var events = db.JobEvents.AsNoTracking().Where(e => e.JobId == id);
        if (after is not null)
        {
            if (!after.StartsWith("ftevent-", StringComparison.Ordinal) || !long.TryParse(after["ftevent-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var afterId))
                return ApiErrors.BadRequest($"'{after}' is not an event id (ftevent-N).", "after", "invalid_cursor");
            events = events.Where(e => e.Id < afterId);
        }
        var page = await events.OrderByDescending(e => e.Id).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(ListResponse<JobEventObject>.Page(page, take, JobEventObject.From, e => e.Id));
    }
}
