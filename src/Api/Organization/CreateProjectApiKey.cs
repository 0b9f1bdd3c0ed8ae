using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Errors;
using TuningService.Api.Validation;
using TuningService.Domain.Persistence;
using TuningService.Domain.Projects;

namespace TuningService.Api.Organization;

/// <summary>Body of <c>POST /v1/organization/projects/{project_id}/api_keys</c>.</summary>
/// <param name="Name">Label for the key, 1–256 characters.</param>
public sealed record CreateProjectApiKeyRequest(string? Name);

internal sealed class CreateProjectApiKeyValidator : AbstractValidator<CreateProjectApiKeyRequest>
{
    public CreateProjectApiKeyValidator() => RuleFor(r => r.Name).CleanText(256);
}

public static class CreateProjectApiKey
{
    /// <summary>Stores only the SHA-256 hash; the secret <c>value</c> is in this response and nowhere else, ever.</summary>
    public static async Task<Results<Ok<CreatedApiKeyObject>, JsonHttpResult<ErrorResponse>>> Handle(
        [FromRoute(Name = "project_id")] string projectId, CreateProjectApiKeyRequest request, TuningDbContext db, CancellationToken ct)
    {
        var project = OrganizationPaging.IsWellFormedId(projectId)
            ? await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct)
            : null;
        if (project is null) return ApiErrors.NotFound("project", projectId, "project_id");
        if (project.ArchivedAt is not null) return ApiErrors.BadRequest($"Project '{projectId}' is archived.", "project_id", "project_archived");

        var (key, secret) = ApiKey.Create(project.Id, request.Name!);
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(CreatedApiKeyObject.From(key, secret));
    }
}
