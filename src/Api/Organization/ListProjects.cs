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
        TuningDbContext db, [AsParameters] PageQuery page, CancellationToken ct)
    {
        var projects = db.Projects.AsNoTracking();
        Cursor? cursor = null;
        if (page.After is not null && (cursor = await OrganizationPaging.FindCursorAsync(projects, page.After, ct)) is null)
            return OrganizationPaging.UnknownCursor(page.After);
        return TypedResults.Ok(await projects.PageByCreationAsync(cursor, page.Take, oldestFirst: true, ProjectObject.From, p => p.Id, ct));
    }
}
