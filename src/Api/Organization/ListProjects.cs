using TuningService.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Errors;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Organization;

public static class ListProjects
{
    /// <summary>Oldest first, like OpenAI's project list; <c>after</c> is the last id of the previous page.</summary>
    public static async Task<Results<Ok<ListResponse<ProjectObject>>, JsonHttpResult<ErrorResponse>>> Handle(
        TuningDbContext db, string? after, int? limit, CancellationToken ct)
    {
        if (OrganizationPaging.CheckLimit(limit) is { } badLimit) return badLimit;
        var take = limit ?? OrganizationPaging.DefaultLimit;

        var query = db.Projects.AsNoTracking();
        if (after is not null)
        {
            var cursor = OrganizationPaging.IsWellFormedId(after)
                ? await db.Projects.Where(p => p.Id == after).Select(p => new { p.Id, p.CreatedAt }).FirstOrDefaultAsync(ct)
                : null;
            if (cursor is null) return OrganizationPaging.UnknownCursor(after);
            query = query.Where(p => p.CreatedAt > cursor.CreatedAt || (p.CreatedAt == cursor.CreatedAt && string.Compare(p.Id, cursor.Id) > 0));
        }

        var page = await query.OrderBy(p => p.CreatedAt).ThenBy(p => p.Id).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(ListResponse<ProjectObject>.Page(page, take, ProjectObject.From, p => p.Id));
    }
}
