using Microsoft.Extensions.FileProviders;

namespace TuningService.Api.Ui;

/// <summary>
/// The web dashboard at <c>/ui</c>: static files (index.html, app.js, app.css) built from <c>ClientApp</c> by npm at
/// build time and embedded in this assembly, so the Api serves them offline from any working directory. The files
/// carry no secret and need no key; every call the page makes goes to <c>/v1</c> with the user's key.
/// </summary>
public static class DashboardUi
{
    public const string Path = "/ui";

    /// <summary>Embedded resource names are this prefix plus the file name (see the BuildDashboard target in the csproj).</summary>
    private const string ResourcePrefix = "TuningService.Api.Ui.dist";

    private const string ContentSecurityPolicy =
        "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    public static void MapUi(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(DashboardUi).Assembly, ResourcePrefix);
        app.UseDefaultFiles(new DefaultFilesOptions { RequestPath = Path, FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            RequestPath = Path,
            FileProvider = files,
            OnPrepareResponse = c =>
            {
                var headers = c.Context.Response.Headers;
                // The page's script is re-read on every load (it changes with each build); ETags keep that cheap.
                headers.CacheControl = "no-cache";
                headers.XContentTypeOptions = "nosniff";
                // The key lives in the tab's sessionStorage: only this origin's script runs, and it talks only to this origin.
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
            },
        });
        app.MapGet("/", () => TypedResults.Redirect(Path + "/")).ExcludeFromDescription();
    }
}
