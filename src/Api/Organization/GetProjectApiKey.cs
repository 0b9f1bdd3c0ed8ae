using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Errors;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Organization;

public static class GetProjectApiKey
{
    public static async Task<Results<Ok<ApiKeyObject>, JsonHttpResult<ErrorResponse>>> Handle(
        [FromRoute(Name = "project_id")] string projectId, [FromRoute(Name = "key_id")] string keyId, TuningDbContext db, CancellationToken ct)
    {
        if (!OrganizationPaging.IsWellFormedId(projectId) || !await db.Projects.AnyAsync(p => p.Id == projectId, ct))
            return ApiErrors.NotFound("project", projectId, "project_id");
        var key = OrganizationPaging.IsWellFormedId(keyId)
            ? await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Id == keyId && k.ProjectId == projectId && k.RevokedAt == null, ct)
            : null;
        return key is null ? ApiErrors.NotFound("API key", keyId, "key_id") : TypedResults.Ok(ApiKeyObject.From(key));
    }
}
