using System.Text;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.Extensions.Options;
using TuningService.Domain;

namespace TuningService.Api.Auth;

public static class HangfireDashboardAuth
{
    /// <summary>
    /// Mounts the Hangfire dashboard at <c>/hangfire</c> for the admin key only: as a Bearer header, or as the
    /// password of HTTP Basic auth so a browser can log in (any user name).
    /// </summary>
    public static void UseHangfireDashboardForAdmins(this WebApplication app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/hangfire"), branch => branch.Use(async (context, next) =>
        {
            var adminKey = context.RequestServices.GetRequiredService<IOptions<TuningOptions>>().Value.AdminApiKey;
            var header = context.Request.Headers.Authorization.ToString();
            var secret = ApiKeyAuthenticationHandler.ReadBearer(header) ?? ReadBasicPassword(header);
            if (secret is null || !ApiKeyAuthenticationHandler.IsAdminKey(secret, adminKey))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"TuningService Hangfire (password: admin key)\"";
                return;
            }
            await next();
        }));
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new AllowCheckedRequests()],
            DashboardTitle = "TuningService jobs",
        });
    }

    private static string? ReadBasicPassword(string header)
    {
        const string prefix = "Basic ";
        if (!header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[prefix.Length..].Trim()));
            var colon = decoded.IndexOf(':');
            return colon < 0 ? null : decoded[(colon + 1)..];
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The middleware above has already checked the admin key.</summary>
    private sealed class AllowCheckedRequests : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => true;
    }
}
