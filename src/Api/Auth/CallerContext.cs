using System.Security.Claims;

namespace TuningService.Api.Auth;

/// <summary>Who is calling: the project every read and write is scoped to, and whether the key is the admin key.</summary>
public sealed class CallerContext(IHttpContextAccessor accessor)
{
    private ClaimsPrincipal User => accessor.HttpContext?.User ?? new ClaimsPrincipal();

    public string ProjectId => User.FindFirstValue(ApiKeyAuthenticationHandler.ProjectClaim)
        ?? throw new InvalidOperationException("No authenticated project on this request.");

    public string KeyId => User.FindFirstValue(ApiKeyAuthenticationHandler.KeyClaim) ?? "";

    public bool IsAdmin => User.HasClaim(ApiKeyAuthenticationHandler.AdminClaim, "true");
}
