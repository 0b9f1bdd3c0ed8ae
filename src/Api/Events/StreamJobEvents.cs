using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Api.Infrastructure;
using TuningService.Api.Jobs;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Events;

/// <summary>
/// <c>GET /v1/fine_tuning/jobs/{id}/events</c>: with <c>stream=true</c> a Server-Sent Events stream of the job's events,
/// oldest first, resumed after <c>Last-Event-ID</c> (or <c>after</c>); without it, the JSON list of <see cref="ListJobEvents"/>.
/// </summary>
public static class StreamJobEvents
{
    public static async Task<Results<Ok<ListResponse<JobEventObject>>, JobEventStream, JsonHttpResult<ErrorResponse>>> Handle(
        string id, [AsParameters] PageQuery page, bool? stream, HttpRequest request, CallerContext caller, TuningDbContext db, CancellationToken ct)
    {
        if (stream != true)
        {
            var list = await ListJobEvents.Handle(id, page, caller, db, ct);
            return list.Result switch
            {
                Ok<ListResponse<JobEventObject>> ok => ok,
                JsonHttpResult<ErrorResponse> error => error,
                var other => throw new InvalidOperationException($"Unexpected result {other.GetType()}."),
            };
        }

        if (!await db.Jobs.AnyAsync(j => j.Id == id && j.ProjectId == caller.ProjectId, ct)) return ApiErrors.NotFound("fine-tuning job", id);
        var resumeFrom = request.Headers["Last-Event-ID"].FirstOrDefault() is { Length: > 0 } header ? header : page.After;
        if (resumeFrom is null) return new JobEventStream(id, 0);
        if (ParseEventId(resumeFrom) is not { } cursor)
            return ApiErrors.BadRequest($"'{resumeFrom}' is not an event id (ftevent-N).", request.Headers.ContainsKey("Last-Event-ID") ? "Last-Event-ID" : "after", "invalid_cursor");
        return new JobEventStream(id, cursor);
    }

    /// <summary><c>ftevent-N</c> or a bare <c>N</c>.</summary>
    public static long? ParseEventId(string value)
    {
        var digits = value.StartsWith("ftevent-", StringComparison.Ordinal) ? value["ftevent-".Length..] : value;
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null;
    }
}
