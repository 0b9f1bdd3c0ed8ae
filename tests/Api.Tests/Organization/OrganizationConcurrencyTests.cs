using System.Net;
using System.Net.Http.Json;
using TuningService.Api.Tests.Infrastructure;

namespace TuningService.Api.Tests.Organization;

public sealed class OrganizationConcurrencyTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const int Concurrent = 200;

    [Fact]
    public async Task TwoHundredConcurrentKeyCreates_AllSucceed_WithDistinctSecrets_AndExactlyThatManyRows()
    {
        var admin = api.CreateAdminClient();
        var projectId = (await admin.CreateProjectAsync("concurrent keys")).GetProperty("id").GetString()!;

        using var start = new SemaphoreSlim(0);
        var requests = Enumerable.Range(0, Concurrent).Select(async i =>
        {
            await start.WaitAsync();
            var response = await admin.PostAsJsonAsync($"/v1/organization/projects/{projectId}/api_keys", new { name = $"key {i}" });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("value").GetString()!;
        }).ToList();
        start.Release(Concurrent);
        var secrets = await Task.WhenAll(requests);

        Assert.Equal(Concurrent, secrets.Distinct().Count());
        await using var db = api.CreateDbContext();
        Assert.Equal(Concurrent, db.ApiKeys.Count(k => k.ProjectId == projectId));
        Assert.Equal(Concurrent, db.ApiKeys.Where(k => k.ProjectId == projectId).Select(k => k.Name).Distinct().Count());
    }

    [Fact]
    public async Task TwoHundredConcurrentProjectCreates_StoreExactlyTwoHundredProjects()
    {
        var admin = api.CreateAdminClient();
        var marker = Guid.NewGuid().ToString("N");
        var statuses = await Task.WhenAll(Enumerable.Range(0, Concurrent).Select(async i =>
            (await admin.PostAsJsonAsync("/v1/organization/projects", new { name = $"{marker} {i}" })).StatusCode));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        await using var db = api.CreateDbContext();
        Assert.Equal(Concurrent, db.Projects.Count(p => p.Name.StartsWith(marker)));
    }
}
