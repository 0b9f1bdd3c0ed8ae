using TuningService.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Errors;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Organization;

public static class ListProjectApiKeys
{
    /// <summary>Live keys only (a revoked key is deleted as far as the API is concerned), oldest first, secrets redacted.</summary>
    public static async Task<Results<Ok<ListResponse<ApiKeyObject>>, JsonHttpResult<ErrorResponse>>> Handle(
        [FromRoute(Name = "project_id")] string projectId, TuningDbContext db, [AsParameters] PageQuery page, CancellationToken ct)
    {
        if (!OrganizationPaging.IsWellFormedId(projectId) || !await db.Projects.AnyAsync(p => p.Id == projectId, ct))
            return ApiErrors.NotFound("project", projectId, "project_id");

        var keys = db.ApiKeys.AsNoTracking().Where(k => k.ProjectId == projectId && k.RevokedAt == null);
        Cursor? cursor = null;
        if (page.After is not null && (cursor = await OrganizationPaging.FindCursorAsync(keys, page.After, ct)) is null)
            return OrganizationPaging.UnknownCursor(page.After);
        return TypedResults.Ok(await keys.PageByCreationAsync(cursor, page.Take, oldestFirst: true, ApiKeyObject.From, k => k.Id, ct));
    }
}
