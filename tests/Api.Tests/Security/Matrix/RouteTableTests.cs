using System.Net.Http.Json;
using System.Text.Json;

namespace TuningService.Api.Tests.Security.Matrix;

public sealed class RouteTableTests(SecurityApiFactory api) : IClassFixture<SecurityApiFactory>
{
    [Fact]
    public async Task IsolationTable_CoversEveryProjectScopedRouteOfTheOpenApiDocument()
    {
        var document = await api.CreateClient().GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var documented = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op => $"{op.Name.ToUpperInvariant()} {path.Name.TrimEnd('/')}"))
            .Where(route => !ProjectRoutes.IsOutOfScope(route))
            .ToHashSet();
        var probed = ProjectRoutes.Probes.Select(p => p.Route).ToHashSet();

        Assert.Empty(documented.Except(probed).Order());
        Assert.Empty(probed.Except(documented).Order()); // no probe of a route that does not exist
        Assert.True(documented.Count >= 18, $"only {documented.Count} routes documented");
    }
}
