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
        string id, [AsParameters] PageQuery page, CallerContext caller, TuningDbContext db, CancellationToken ct)
    {
        if (!await db.Jobs.AnyAsync(j => j.Id == id && j.ProjectId == caller.ProjectId, ct)) return ApiErrors.NotFound("fine-tuning job", id);
        var after = page.After;

        var events = db.JobEvents.AsNoTracking().Where(e => e.JobId == id);
        if (after is not null)
        {
            if (!after.StartsWith("ftevent-", StringComparison.Ordinal) || !long.TryParse(after["ftevent-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var afterId))
                return ApiErrors.BadRequest($"'{after}' is not an event id (ftevent-N).", "after", "invalid_cursor");
            events = events.Where(e => e.Id < afterId);
        }
        // Event ids grow with every append, so they alone are the order (timestamps from several workers need not).
        return TypedResults.Ok(await events.OrderByDescending(e => e.Id).ToPageAsync(page.Take, JobEventObject.From, e => e.Id, ct));
    }
}
