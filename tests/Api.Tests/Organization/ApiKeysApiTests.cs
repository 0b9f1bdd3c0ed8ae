using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TuningService.Api.Tests.Infrastructure;
using TuningService.Api.Tests.Security;
using TuningService.Domain.Projects;

namespace TuningService.Api.Tests.Organization;

public sealed class ApiKeysApiTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task CreateKey_ShowsTheSecretOnce_StoresOnlyItsHash_AndTheKeyWorksForItsProject()
    {
        var admin = api.CreateAdminClient();
        var projectId = (await admin.CreateProjectAsync("keys")).GetProperty("id").GetString()!;

        var response = await admin.PostAsJsonAsync($"/v1/organization/projects/{projectId}/api_keys", new { name = "ci" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var key = await response.ReadJsonAsync();
        var id = key.GetProperty("id").GetString()!;
        var secret = key.GetProperty("value").GetString()!;
        Assert.Equal("organization.project.api_key", key.GetProperty("object").GetString());
        Assert.StartsWith("key_", id);
        Assert.StartsWith("sk-tun-", secret);
        Assert.Equal("ci", key.GetProperty("name").GetString());
        Assert.Equal(ApiKey.Redact(secret), key.GetProperty("redacted_value").GetString());
        Assert.DoesNotContain(secret[10..^4], key.GetProperty("redacted_value").GetString());

        await using (var db = api.CreateDbContext())
        {
            var stored = db.ApiKeys.Single(k => k.Id == id);
            Assert.Equal(ApiKey.HashSecret(secret), stored.Hash);
            Assert.Equal(projectId, stored.ProjectId);
            Assert.DoesNotContain(db.ApiKeys.Select(k => k.Hash + k.RedactedValue + k.Name).ToList(), s => s.Contains(secret));
        }

        var listed = await admin.GetStringAsync($"/v1/organization/projects/{projectId}/api_keys");
        var retrieved = await admin.GetStringAsync($"/v1/organization/projects/{projectId}/api_keys/{id}");
        Assert.DoesNotContain(secret, listed);
        Assert.DoesNotContain("\"value\"", listed);
        Assert.DoesNotContain(secret, retrieved);
        Assert.Equal(id, JsonDocument.Parse(retrieved).RootElement.GetProperty("id").GetString());

        var me = await api.CreateClient(secret).GetFromJsonAsync<JsonElement>("/v1/me");
        Assert.Equal(projectId, me.GetProperty("project_id").GetString());
        Assert.False(me.GetProperty("admin").GetBoolean());
    }

    [Fact]
    public async Task RevokeKey_Returns401OnTheVeryNextRequest_AndDropsItFromTheList()
    {
        var admin = api.CreateAdminClient();
        var projectId = (await admin.CreateProjectAsync("revoke")).GetProperty("id").GetString()!;
        var kept = await admin.CreateKeyAsync(projectId, "kept");
        var doomed = await admin.CreateKeyAsync(projectId, "doomed");
        var doomedId = doomed.GetProperty("id").GetString()!;
        var client = api.CreateClient(doomed.GetProperty("value").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/me")).StatusCode);

        var deleted = await (await admin.DeleteAsync($"/v1/organization/projects/{projectId}/api_keys/{doomedId}")).ReadJsonAsync();
        Assert.Equal("organization.project.api_key.deleted", deleted.GetProperty("object").GetString());
        Assert.Equal(doomedId, deleted.GetProperty("id").GetString());
        Assert.True(deleted.GetProperty("deleted").GetBoolean());

        await ErrorShape.AssertAsync(await client.GetAsync("/v1/me"), HttpStatusCode.Unauthorized, "invalid_api_key");
        Assert.Equal(HttpStatusCode.OK, (await api.CreateClient(kept.GetProperty("value").GetString()).GetAsync("/v1/me")).StatusCode);

        var list = await admin.GetFromJsonAsync<JsonElement>($"/v1/organization/projects/{projectId}/api_keys");
        Assert.Equal([kept.GetProperty("id").GetString()], list.GetProperty("data").EnumerateArray().Select(k => k.GetProperty("id").GetString()));
        await ErrorShape.AssertAsync(await admin.GetAsync($"/v1/organization/projects/{projectId}/api_keys/{doomedId}"), HttpStatusCode.NotFound);
        await ErrorShape.AssertAsync(await admin.DeleteAsync($"/v1/organization/projects/{projectId}/api_keys/{doomedId}"), HttpStatusCode.NotFound);

        await using var db = api.CreateDbContext();
        Assert.NotNull(db.ApiKeys.Single(k => k.Id == doomedId).RevokedAt);
    }

    [Fact]
    public async Task ListKeys_PagesOldestFirst_AndOnlyShowsTheProjectsOwnKeys()
    {
        var admin = api.CreateAdminClient();
        var projectId = (await admin.CreateProjectAsync("list keys")).GetProperty("id").GetString()!;
        var otherId = (await admin.CreateProjectAsync("other")).GetProperty("id").GetString()!;
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await admin.CreateKeyAsync(projectId, $"k{i}")).GetProperty("id").GetString()!);
        await admin.CreateKeyAsync(otherId, "foreign");

        var first = await admin.GetFromJsonAsync<JsonElement>($"/v1/organization/projects/{projectId}/api_keys?limit=2");
        Assert.True(first.GetProperty("has_more").GetBoolean());
        var second = await admin.GetFromJsonAsync<JsonElement>($"/v1/organization/projects/{projectId}/api_keys?limit=2&after={first.GetProperty("last_id").GetString()}");
        Assert.False(second.GetProperty("has_more").GetBoolean());
        var listed = first.GetProperty("data").EnumerateArray().Concat(second.GetProperty("data").EnumerateArray()).ToList();
        Assert.Equal(ids, listed.Select(k => k.GetProperty("id").GetString()!));
        Assert.All(listed, k => Assert.StartsWith("sk-tun-...", k.GetProperty("redacted_value").GetString()));
    }

    [Fact]
    public async Task KeyRoutes_Are404ForUnknownProjectsAndForAnotherProjectsKey()
    {
        var admin = api.CreateAdminClient();
        var a = (await admin.CreateProjectAsync("a")).GetProperty("id").GetString()!;
        var b = (await admin.CreateProjectAsync("b")).GetProperty("id").GetString()!;
        var keyOfA = (await admin.CreateKeyAsync(a)).GetProperty("id").GetString()!;

        await ErrorShape.AssertAsync(await admin.PostAsJsonAsync("/v1/organization/projects/proj_nope/api_keys", new { name = "x" }), HttpStatusCode.NotFound);
        await ErrorShape.AssertAsync(await admin.GetAsync("/v1/organization/projects/proj_nope/api_keys"), HttpStatusCode.NotFound);
        await ErrorShape.AssertAsync(await admin.GetAsync($"/v1/organization/projects/{b}/api_keys/{keyOfA}"), HttpStatusCode.NotFound);
        await ErrorShape.AssertAsync(await admin.DeleteAsync($"/v1/organization/projects/{b}/api_keys/{keyOfA}"), HttpStatusCode.NotFound);
        await ErrorShape.AssertAsync(await admin.DeleteAsync($"/v1/organization/projects/{a}/api_keys/key_nope"), HttpStatusCode.NotFound);
        await ErrorShape.AssertAsync(await admin.DeleteAsync($"/v1/organization/projects/{a}/api_keys/%F0%9F%94%91"), HttpStatusCode.NotFound);

        await using var db = api.CreateDbContext();
        Assert.Null(db.ApiKeys.Single(k => k.Id == keyOfA).RevokedAt);
        Assert.Equal(0, db.ApiKeys.Count(k => k.ProjectId == "proj_nope"));
    }
}
