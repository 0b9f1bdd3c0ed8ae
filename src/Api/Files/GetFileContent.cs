// Injected services (db, caller, ct) are not API parameters, so only route parameters are documented.
#pragma warning disable CS1573
using Microsoft.AspNetCore.Http.HttpResults;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain.Files;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Files;

/// <summary><c>GET /v1/files/{id}/content</c>: the uploaded bytes, unchanged (BOM and CRLF included), streamed chunk by chunk.</summary>
public static class GetFileContent
{
    public const string ContentType = "application/octet-stream";

    /// <summary>Download a file's content.</summary>
    /// <param name="id">The file id.</param>
    /// <response code="200">The exact bytes that were uploaded.</response>
    /// <response code="404">No such file in the caller's project.</response>
    public static async Task<Results<FileStreamHttpResult, JsonHttpResult<ErrorResponse>>> Handle(
        string id, HttpContext http, TuningDbContext db, CallerContext caller, CancellationToken ct)
    {
        var content = await FileContentStream.OpenAsync(db, caller.ProjectId, id, ct);
        if (content is null) return ApiErrors.NotFound("file", id);
        http.Response.ContentLength = content.Length;
        return TypedResults.Stream(content, ContentType);
    }
}
