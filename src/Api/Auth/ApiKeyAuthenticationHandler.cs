using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TuningService.Api.Errors;
using TuningService.Domain;
using TuningService.Domain.Persistence;
using TuningService.Domain.Projects;

namespace TuningService.Api.Auth;

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c>. The admin key (configuration) owns the default project; project keys
/// are looked up by their SHA-256 hash on every request, so a revoked key stops working at once.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<TuningOptions> tuning,
    TuningDbContext db)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string AdminPolicy = "admin";
    public const string ProjectClaim = "project_id";
    public const string KeyClaim = "key_id";
    public const string AdminClaim = "admin";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var secret = ReadBearer(Request.Headers.Authorization.ToString());
        if (secret is null) return AuthenticateResult.NoResult();

        if (IsAdminKey(secret, tuning.Value.AdminApiKey))
            return Success(Project.DefaultProjectId, "admin", admin: true);

        var hash = ApiKey.HashSecret(secret);
        var key = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Hash == hash && k.RevokedAt == null)
            .Select(k => new { k.Id, k.ProjectId })
            .FirstOrDefaultAsync(Context.RequestAborted);
        return key is null ? AuthenticateResult.Fail("Incorrect API key provided.") : Success(key.ProjectId, key.Id, admin: false);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var provided = ReadBearer(Request.Headers.Authorization.ToString()) is not null;
        var message = provided
            ? "Incorrect API key provided. You can create keys with the admin key at /v1/organization/projects/{project_id}/api_keys."
            : "You didn't provide an API key. Send it as an 'Authorization: Bearer <key>' header.";
        return ApiErrors.Write(Context, StatusCodes.Status401Unauthorized, message, "invalid_request_error", provided ? "invalid_api_key" : "missing_api_key");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ApiErrors.Write(Context, StatusCodes.Status403Forbidden, "This route needs the admin key.", "invalid_request_error", "admin_key_required");

    public static string? ReadBearer(string header)
    {
        const string prefix = "Bearer ";
        if (!header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return null;
        var value = header[prefix.Length..].Trim();
        return value.Length == 0 ? null : value;
    }

    public static bool IsAdminKey(string secret, string? adminKey) =>
        adminKey is { Length: > 0 } &&
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), SHA256.HashData(Encoding.UTF8.GetBytes(adminKey)));

    private AuthenticateResult Success(string projectId, string keyId, bool admin)
    {
        var identity = new ClaimsIdentity(
            [new Claim(ProjectClaim, projectId), new Claim(KeyClaim, keyId), new Claim(AdminClaim, admin ? "true" : "false")],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
