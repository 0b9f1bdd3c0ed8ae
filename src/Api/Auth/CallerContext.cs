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

/// <summary>The answer of <c>GET /v1/me</c>: the project the key belongs to and whether it is the admin key.</summary>
/// <param name="ProjectId">The project the key's requests act on.</param>
/// <param name="Admin">True for the admin key (manages projects and keys, opens /hangfire).</param>
public sealed record CallerIdentity(string ProjectId, bool Admin);
