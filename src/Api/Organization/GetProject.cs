using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Errors;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Organization;

public static class GetProject
{
    public static async Task<Results<Ok<ProjectObject>, JsonHttpResult<ErrorResponse>>> Handle(
        [FromRoute(Name = "project_id")] string projectId, TuningDbContext db, CancellationToken ct)
    {
        var project = OrganizationPaging.IsWellFormedId(projectId)
            ? await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct)
            : null;
        return project is null ? ApiErrors.NotFound("project", projectId, "project_id") : TypedResults.Ok(ProjectObject.From(project));
    }
}
