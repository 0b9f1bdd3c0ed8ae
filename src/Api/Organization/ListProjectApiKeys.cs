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
        [FromRoute(Name = "project_id")] string projectId, TuningDbContext db, string? after, int? limit, CancellationToken ct)
    {
        if (!OrganizationPaging.IsWellFormedId(projectId) || !await db.Projects.AnyAsync(p => p.Id == projectId, ct))
            return ApiErrors.NotFound("project", projectId, "project_id");
        if (OrganizationPaging.CheckLimit(limit) is { } badLimit) return badLimit;
        var take = limit ?? OrganizationPaging.DefaultLimit;

        var query = db.ApiKeys.AsNoTracking().Where(k => k.ProjectId == projectId && k.RevokedAt == null);
        if (after is not null)
        {
            var cursor = OrganizationPaging.IsWellFormedId(after)
                ? await query.Where(k => k.Id == after).Select(k => new { k.Id, k.CreatedAt }).FirstOrDefaultAsync(ct)
                : null;
            if (cursor is null) return OrganizationPaging.UnknownCursor(after);
            query = query.Where(k => k.CreatedAt > cursor.CreatedAt || (k.CreatedAt == cursor.CreatedAt && string.Compare(k.Id, cursor.Id) > 0));
        }

        var page = await query.OrderBy(k => k.CreatedAt).ThenBy(k => k.Id).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(ListResponse<ApiKeyObject>.Page(page, take, ApiKeyObject.From, k => k.Id));
    }
}
