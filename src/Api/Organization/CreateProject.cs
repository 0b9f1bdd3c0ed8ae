using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using TuningService.Api.Errors;
using TuningService.Api.Validation;
using TuningService.Domain;
using TuningService.Domain.Persistence;
using TuningService.Domain.Projects;

namespace TuningService.Api.Organization;

/// <summary>Body of <c>POST /v1/organization/projects</c>.</summary>
/// <param name="Name">Human-readable project name, 1–256 characters.</param>
public sealed record CreateProjectRequest(string? Name);

internal sealed class CreateProjectValidator : AbstractValidator<CreateProjectRequest>
{
    public CreateProjectValidator() => RuleFor(r => r.Name).CleanText(256);
}

public static class CreateProject
{
    public static async Task<Ok<ProjectObject>> Handle(
        CreateProjectRequest request, TuningDbContext db, CancellationToken ct)
    {
        var project = new Project { Id = Ids.New("proj_"), Name = request.Name! };
        db.Projects.Add(project);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ProjectObject.From(project));
    }
}
