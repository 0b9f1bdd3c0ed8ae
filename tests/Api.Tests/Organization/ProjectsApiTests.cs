using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TuningService.Api.Tests.Infrastructure;
using TuningService.Api.Tests.Security;
using TuningService.Domain.Projects;

namespace TuningService.Api.Tests.Organization;

public sealed class ProjectsApiTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task CreateProject_ReturnsTheOpenAiProjectObject_AndStoresIt()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var response = await api.CreateAdminClient().PostAsJsonAsync("/v1/organization/projects", new { name = "Team Ω 🚀" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var project = await response.ReadJsonAsync();
        Assert.Equal("organization.project", project.GetProperty("object").GetString());
        Assert.StartsWith("proj_", project.GetProperty("id").GetString());
        Assert.Equal("Team Ω 🚀", project.GetProperty("name").GetString());
        Assert.InRange(project.GetProperty("created_at").GetInt64(), before, before + 60);
        Assert.Equal(JsonValueKind.Null, project.GetProperty("archived_at").ValueKind);
        Assert.Equal("active", project.GetProperty("status").GetString());

        await using var db = api.CreateDbContext();
        Assert.Equal("Team Ω 🚀", db.Projects.Single(p => p.Id == project.GetProperty("id").GetString()).Name);
    }

    [Fact]
    public async Task RetrieveProject_ReturnsIt_And404ForUnknownOrMalformedIds()
    {
        var admin = api.CreateAdminClient();
        var id = (await admin.CreateProjectAsync("retrieve me")).GetProperty("id").GetString();

        var project = await admin.GetFromJsonAsync<JsonElement>($"/v1/organization/projects/{id}");
        Assert.Equal("retrieve me", project.GetProperty("name").GetString());
        Assert.Equal(Project.DefaultProjectId,
            (await admin.GetFromJsonAsync<JsonElement>($"/v1/organization/projects/{Project.DefaultProjectId}")).GetProperty("id").GetString());

        foreach (var unknown in new[] { "proj_doesnotexist", "%E2%98%83", new string('a', 5000), "..%2F..%2Fetc" })
        {
            var error = await ErrorShape.AssertAsync(await admin.GetAsync($"/v1/organization/projects/{unknown}"), HttpStatusCode.NotFound);
            Assert.Equal("project_id", error.GetProperty("param").GetString());
        }
    }

    [Fact]
    public async Task ListProjects_PagesOldestFirstWithAfterAndLimit()
    {
        var admin = api.CreateAdminClient();
        var created = new List<string>();
        for (var i = 0; i < 5; i++) created.Add((await admin.CreateProjectAsync($"page {i}")).GetProperty("id").GetString()!);

        var seen = new List<string>();
        string? after = null;
        for (var pages = 0; pages < 100; pages++)
        {
            var page = await admin.GetFromJsonAsync<JsonElement>($"/v1/organization/projects?limit=2{(after is null ? "" : "&after=" + after)}");
            Assert.Equal("list", page.GetProperty("object").GetString());
            var ids = page.GetProperty("data").EnumerateArray().Select(p => p.GetProperty("id").GetString()!).ToList();
            Assert.InRange(ids.Count, 1, 2);
            Assert.Equal(ids[0], page.GetProperty("first_id").GetString());
            Assert.Equal(ids[^1], page.GetProperty("last_id").GetString());
            seen.AddRange(ids);
            if (!page.GetProperty("has_more").GetBoolean()) break;
            after = ids[^1];
        }

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(created, seen.Where(created.Contains).ToList()); // oldest first
        Assert.Contains(Project.DefaultProjectId, seen);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=101")]
    [InlineData("limit=-5")]
    [InlineData("limit=abc")]
    [InlineData("limit=99999999999999999999")]
    [InlineData("limit=1.5")]
    [InlineData("after=proj_nope")]
    [InlineData("after=%00")]
    public async Task ListProjects_RejectsBadCursorsWith400(string query)
    {
        var response = await api.CreateAdminClient().GetAsync($"/v1/organization/projects?{query}");
        await ErrorShape.AssertAsync(response, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("POST", "/v1/organization/projects")]
    [InlineData("GET", "/v1/organization/projects")]
    [InlineData("GET", "/v1/organization/projects/proj_default")]
    [InlineData("POST", "/v1/organization/projects/proj_default/api_keys")]
    [InlineData("GET", "/v1/organization/projects/proj_default/api_keys")]
    [InlineData("GET", "/v1/organization/projects/proj_default/api_keys/key_x")]
    [InlineData("DELETE", "/v1/organization/projects/proj_default/api_keys/key_x")]
    public async Task OrganizationRoutes_Are403ForAProjectKey_And401WithoutAKey(string method, string path)
    {
        var (_, secret) = await api.InsertKeyAsync();
        var before = await api.CountRowsAsync();

        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST") request.Content = JsonContent.Create(new { name = "not allowed" });
        await ErrorShape.AssertAsync(await api.CreateClient(secret).SendAsync(request), HttpStatusCode.Forbidden, "admin_key_required");

        var anonymous = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST") anonymous.Content = JsonContent.Create(new { name = "not allowed" });
        await ErrorShape.AssertAsync(await api.CreateClient(apiKey: null).SendAsync(anonymous), HttpStatusCode.Unauthorized);

        Assert.Equal(before, await api.CountRowsAsync());
    }

    [Fact]
    public async Task OpenApiDocument_DescribesEveryOrganizationRoute()
    {
        var paths = (await api.CreateClient(apiKey: null).GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json")).GetProperty("paths");
        Assert.True(paths.GetProperty("/v1/organization/projects").TryGetProperty("post", out var create));
        Assert.True(create.GetProperty("responses").TryGetProperty("403", out _));
        Assert.True(paths.GetProperty("/v1/organization/projects/{project_id}/api_keys").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/v1/organization/projects/{project_id}/api_keys/{key_id}").TryGetProperty("delete", out _));
    }
}
