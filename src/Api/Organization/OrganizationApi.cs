using Microsoft.AspNetCore.Mvc;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Api.Infrastructure;
using TuningService.Api.Validation;

namespace TuningService.Api.Organization;

/// <summary>Projects and their API keys, shaped like OpenAI's admin API. Admin key only: a project key gets 403.</summary>
public static class OrganizationApi
{
    public static void MapOrganizationApi(this RouteGroupBuilder v1)
    {
        var projects = v1.MapGroup("/organization/projects")
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy)
            .WithTags("Organization")
            .WithMetadata(
                new ProducesResponseTypeAttribute(typeof(ErrorResponse), StatusCodes.Status400BadRequest, "application/json"),
                new ProducesResponseTypeAttribute(typeof(ErrorResponse), StatusCodes.Status403Forbidden, "application/json"),
                new ProducesResponseTypeAttribute(typeof(ErrorResponse), StatusCodes.Status404NotFound, "application/json"));

        projects.MapPost("", CreateProject.Handle).WithName("CreateProject").WithSummary("Create a project.")
            .Validated<CreateProjectRequest>();
        projects.MapGet("", ListProjects.Handle).WithName("ListProjects").WithSummary("List projects, oldest first.")
            .Validated<PageQuery>();
        projects.MapGet("/{project_id}", GetProject.Handle).WithName("RetrieveProject").WithSummary("Retrieve a project.");
        projects.MapPost("/{project_id}/api_keys", CreateProjectApiKey.Handle).WithName("CreateProjectApiKey").WithSummary("Create a project API key; its secret is shown once.")
            .Validated<CreateProjectApiKeyRequest>();
        projects.MapGet("/{project_id}/api_keys", ListProjectApiKeys.Handle).WithName("ListProjectApiKeys").WithSummary("List a project's live API keys (redacted).")
            .Validated<PageQuery>();
        projects.MapGet("/{project_id}/api_keys/{key_id}", GetProjectApiKey.Handle).WithName("RetrieveProjectApiKey").WithSummary("Retrieve a project API key (redacted).");
        projects.MapDelete("/{project_id}/api_keys/{key_id}", RevokeProjectApiKey.Handle).WithName("DeleteProjectApiKey").WithSummary("Revoke a project API key at once.");
    }
}
