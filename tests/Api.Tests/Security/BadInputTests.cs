using System.Net;
using System.Net.Http.Headers;
using System.Text;
using TuningService.Api.Tests.Infrastructure;
using TuningService.Api.Tests.Organization;

namespace TuningService.Api.Tests.Security;

/// <summary>Malformed, mistyped and hostile bodies on the organization routes: always a 4xx in the error shape, never a row.</summary>
public sealed class BadInputTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    public static TheoryData<string, string> Bodies => new()
    {
        { "truncated JSON", "{\"name\": \"x\"" },
        { "not JSON", "name=x" },
        { "empty object", "{}" },
        { "JSON null", "null" },
        { "array", "[{\"name\":\"x\"}]" },
        { "bare string", "\"x\"" },
        { "number for string", "{\"name\": 5}" },
        { "object for string", "{\"name\": {\"first\": \"x\"}}" },
        { "array for string", "{\"name\": [\"x\"]}" },
        { "bool for string", "{\"name\": true}" },
        { "NaN", "{\"name\": NaN}" },
        { "huge number", "{\"name\": 1e99999}" },
        { "huge integer", "{\"name\": 123456789012345678901234567890}" },
        { "null name", "{\"name\": null}" },
        { "empty name", "{\"name\": \"\"}" },
        { "blank name", "{\"name\": \"   \"}" },
        { "NUL character", "{\"name\": \"a\\u0000b\"}" },
        { "control character", "{\"name\": \"a\\u0007b\"}" },
        { "lone high surrogate", "{\"name\": \"a\\ud800b\"}" },
        { "lone low surrogate", "{\"name\": \"\\udc00\"}" },
        { "too long name", $"{{\"name\": \"{new string('n', 257)}\"}}" },
        { "too long in UTF-16 units", $"{{\"name\": \"{string.Concat(Enumerable.Repeat("😀", 129))}\"}}" },
        { "trailing garbage", "{\"name\": \"x\"} {" },
        { "comment", "{\"name\": \"x\" /* hi */}" },
        { "deep nesting", new string('[', 5000) + new string(']', 5000) },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task CreateProject_RejectsBadBodiesWith4xx_AndStoresNothing(string why, string json)
    {
        var before = await api.CountRowsAsync();
        var response = await api.CreateAdminClient().PostAsync("/v1/organization/projects", Json(json));
        var error = await ErrorShape.AssertClientErrorAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{why}: {(int)response.StatusCode} {error}");
        Assert.DoesNotContain("TuningService.", error.GetProperty("message").GetString()); // no .NET type names
        Assert.Equal(before, await api.CountRowsAsync());
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task CreateKey_RejectsBadBodiesWith4xx_AndStoresNothing(string why, string json)
    {
        var before = await api.CountRowsAsync();
        var response = await api.CreateAdminClient().PostAsync("/v1/organization/projects/proj_default/api_keys", Json(json));
        var error = await ErrorShape.AssertClientErrorAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{why}: {(int)response.StatusCode} {error}");
        Assert.Equal(before, await api.CountRowsAsync());
    }

    [Fact]
    public async Task InvalidUtf8Bytes_Are400()
    {
        var before = await api.CountRowsAsync();
        var bytes = Encoding.UTF8.GetBytes("{\"name\": \"ab\"}").ToList();
        bytes.InsertRange(11, new byte[] { 0xC3, 0x28, 0xFF, 0x00 });
        var content = new ByteArrayContent(bytes.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        await ErrorShape.AssertAsync(await api.CreateAdminClient().PostAsync("/v1/organization/projects", content), HttpStatusCode.BadRequest);
        Assert.Equal(before, await api.CountRowsAsync());
    }

    [Fact]
    public async Task MissingBodyAndWrongContentType_Are4xx()
    {
        var admin = api.CreateAdminClient();
        await ErrorShape.AssertAsync(await admin.PostAsync("/v1/organization/projects", null), HttpStatusCode.BadRequest);
        await ErrorShape.AssertAsync(await admin.PostAsync("/v1/organization/projects", new StringContent("{\"name\":\"x\"}", Encoding.UTF8, "text/plain")),
            HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task UnicodeThatPostgresCanStore_IsKeptExactly()
    {
        const string name = "e\u0301 \u200d 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \uFFFD 中文 \u202e";
        var project = await api.CreateAdminClient().CreateProjectAsync(name);
        Assert.Equal(name, project.GetProperty("name").GetString());
        await using var db = api.CreateDbContext();
        Assert.Equal(name, db.Projects.Single(p => p.Id == project.GetProperty("id").GetString()).Name);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
