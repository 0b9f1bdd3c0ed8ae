// Injected services (db, caller, ct) are not API parameters, so only route parameters are documented.
#pragma warning disable CS1573
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Files;

/// <summary><c>GET /v1/files/{id}</c>.</summary>
public static class GetFile
{
    /// <summary>Retrieve a file object.</summary>
    /// <param name="id">The file id, e.g. <c>file-abc123</c>.</param>
    /// <response code="200">The file object with its validation report.</response>
    /// <response code="404">No such file in the caller's project.</response>
    public static async Task<Results<Ok<FileObject>, JsonHttpResult<ErrorResponse>>> Handle(
        string id, TuningDbContext db, CallerContext caller, CancellationToken ct)
    {
        var projectId = caller.ProjectId;
        var file = await db.Files.AsNoTracking().SingleOrDefaultAsync(f => f.Id == id && f.ProjectId == projectId, ct);
        return file is null ? ApiErrors.NotFound("file", id) : TypedResults.Ok(FileObject.From(file));
    }
}
