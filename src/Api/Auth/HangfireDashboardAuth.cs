using System.Security.Claims;
using System.Text;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using Hangfire;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using TuningService.Domain;

namespace TuningService.Api.Auth;

/// <summary>
/// The Hangfire dashboard at <c>/hangfire</c>, for the admin key only: an ASP.NET Core authorization policy on the
/// dashboard's endpoint (Hangfire's own filters are off). The key comes as a Bearer header, or as the password of HTTP
/// Basic auth so a browser can log in (any user name).
/// </summary>
public static class HangfireDashboardAuth
{
    public const string SchemeName = "HangfireDashboard";
    public const string Policy = "hangfire-dashboard";

    public static void AddHangfireDashboardAuth(this IServiceCollection services)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminKeyHandler>(SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(Policy, p => p
            .AddAuthenticationSchemes(SchemeName)
            .RequireClaim(ApiKeyAuthenticationHandler.AdminClaim, "true"));
    }

    public static void MapHangfireDashboardForAdmins(this IEndpointRouteBuilder app) =>
        app.MapHangfireDashboardWithAuthorizationPolicy(Policy, "/hangfire", new DashboardOptions { DashboardTitle = "TuningService jobs" });

    /// <summary>
    /// Signs in the admin key and nobody else: a project key is not an identity here, so the dashboard asks for a
    /// login (401 with a Basic challenge) instead of answering 403.
    /// </summary>
    private sealed class AdminKeyHandler(
        IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IOptions<TuningOptions> tuning)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var header = Request.Headers.Authorization.ToString();
            var secret = ApiKeyAuthenticationHandler.ReadBearer(header) ?? ReadBasicPassword(header);
            if (secret is null || !ApiKeyAuthenticationHandler.IsAdminKey(secret, tuning.Value.AdminApiKey))
                return Task.FromResult(AuthenticateResult.NoResult());
            var identity = new ClaimsIdentity([new Claim(ApiKeyAuthenticationHandler.AdminClaim, "true")], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }

        protected override Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            Response.Headers.WWWAuthenticate = "Basic realm=\"TuningService Hangfire (password: admin key)\"";
            return Task.CompletedTask;
        }

        private static string? ReadBasicPassword(string header)
        {
            if (!AuthenticationHeaderValue.TryParse(header, out var value) || !"Basic".Equals(value.Scheme, StringComparison.OrdinalIgnoreCase)) return null;
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value.Parameter ?? ""));
                var colon = decoded.IndexOf(':');
                return colon < 0 ? null : decoded[(colon + 1)..];
            }
            catch (FormatException)
            {
                return null;
            }
        }
    }
}
