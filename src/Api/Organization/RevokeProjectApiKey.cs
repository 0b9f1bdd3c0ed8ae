using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Errors;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Organization;

public static class RevokeProjectApiKey
{
    /// <summary>
    /// Marks the key revoked (the row stays for audit). Authentication looks keys up on every request, so the very
    /// next request with it is a 401. Revoking twice is a 404, like deleting twice.
    /// </summary>
    public static async Task<Results<Ok<ApiKeyDeleted>, JsonHttpResult<ErrorResponse>>> Handle(
        [FromRoute(Name = "project_id")] string projectId, [FromRoute(Name = "key_id")] string keyId, TuningDbContext db, CancellationToken ct)
    {
        if (!OrganizationPaging.IsWellFormedId(projectId) || !await db.Projects.AnyAsync(p => p.Id == projectId, ct))
            return ApiErrors.NotFound("project", projectId, "project_id");
        var now = DateTimeOffset.UtcNow;
        var revoked = OrganizationPaging.IsWellFormedId(keyId)
            ? await db.ApiKeys
                .Where(k => k.Id == keyId && k.ProjectId == projectId && k.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), ct)
            : 0;
        return revoked == 0
            ? ApiErrors.NotFound("API key", keyId, "key_id")
            : TypedResults.Ok(new ApiKeyDeleted("organization.project.api_key.deleted", keyId, true));
    }
}
