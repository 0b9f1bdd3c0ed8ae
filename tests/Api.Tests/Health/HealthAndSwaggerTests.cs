using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TuningService.Api.Tests.Infrastructure;

namespace TuningService.Api.Tests.Health;

public sealed class HealthAndSwaggerTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Ready_Is200_WhenPostgresAnswersAndSchemaIsCurrent()
    {
        var client = api.CreateClient(apiKey: null);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready", (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Swagger_ServesTheOpenApiDocumentAndTheUi()
    {
        var client = api.CreateClient(apiKey: null);
        var document = await client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());
        Assert.True(document.GetProperty("paths").TryGetProperty("/health/ready", out _));
        Assert.True(document.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("bearer", out _));

        var ui = await client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Contains("swagger-ui", await ui.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OpenApiDocument_NamesNoCSharpMembersOrTypes()
    {
        var text = await api.CreateClient(apiKey: null).GetStringAsync("/swagger/v1/swagger.json");
        foreach (var leak in new[] { "M:TuningService", "T:TuningService", "P:TuningService", "AnonymousType", "<>f__", "`1", "TuningService." })
            Assert.DoesNotContain(leak, text);
        using var document = JsonDocument.Parse(text);
        Assert.All(document.RootElement.GetProperty("components").GetProperty("schemas").EnumerateObject(),
            schema => Assert.Matches("^[A-Za-z][A-Za-z0-9]*$", schema.Name));
    }

    [Fact]
    public async Task UnknownRoute_Is404InErrorShape()
    {
        var response = await api.CreateAdminClient().GetAsync("/v1/no-such-thing");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("unknown_url", error.GetProperty("code").GetString());
    }
}
