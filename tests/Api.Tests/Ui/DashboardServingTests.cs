using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using TuningService.Api.Tests.Infrastructure;

namespace TuningService.Api.Tests.Ui;

/// <summary>The dashboard's static files are served without a key from the assembly; the API behind them still needs one.</summary>
public sealed class DashboardServingTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Root_RedirectsToTheDashboard()
    {
        var client = api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var response = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/ui/", response.Headers.Location?.OriginalString);

        var withoutSlash = await client.GetAsync("/ui");
        Assert.Equal("/ui/", withoutSlash.Headers.Location?.AbsolutePath ?? withoutSlash.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Dashboard_ServesItsPageScriptAndStylesWithoutAKey_FromNoCdn()
    {
        var client = api.CreateClient(apiKey: null);
        var page = await client.GetAsync("/ui/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("src=\"app.js\"", html);
        Assert.DoesNotContain("http", html.Replace("http-equiv", ""), StringComparison.OrdinalIgnoreCase);

        var script = await client.GetAsync("/ui/app.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("uplot", await script.Content.ReadAsStringAsync());

        var styles = await client.GetAsync("/ui/app.css");
        Assert.Equal(HttpStatusCode.OK, styles.StatusCode);
        Assert.Contains(".uplot", await styles.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ApiRoutes_StillNeedAKey_AndUnknownDashboardFilesAre404()
    {
        var client = api.CreateClient(apiKey: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v1/fine_tuning/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/ui/missing.js")).StatusCode);
    }
}
