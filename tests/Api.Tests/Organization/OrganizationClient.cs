using System.Net.Http.Json;
using System.Text.Json;
using TuningService.Api.Tests.Infrastructure;
using TuningService.Domain.Projects;

namespace TuningService.Api.Tests.Organization;

/// <summary>Test shortcuts over the organization routes and the database behind them.</summary>
public static class OrganizationClient
{
    public static async Task<JsonElement> CreateProjectAsync(this HttpClient admin, string name = "test project")
    {
        var response = await admin.PostAsJsonAsync("/v1/organization/projects", new { name });
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static async Task<JsonElement> CreateKeyAsync(this HttpClient admin, string projectId, string name = "test key")
    {
        var response = await admin.PostAsJsonAsync($"/v1/organization/projects/{projectId}/api_keys", new { name });
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>A project key inserted straight into the database, so no request budget is spent making it.</summary>
    public static async Task<(ApiKey Key, string Secret)> InsertKeyAsync(this ApiFactory api, string projectId = Project.DefaultProjectId)
    {
        var created = ApiKey.Create(projectId, "inserted by test");
        await using var db = api.CreateDbContext();
        db.ApiKeys.Add(created.Key);
        await db.SaveChangesAsync();
        return created;
    }

    public static async Task<(int Projects, int Keys)> CountRowsAsync(this ApiFactory api)
    {
        await using var db = api.CreateDbContext();
        return (db.Projects.Count(), db.ApiKeys.Count());
    }
}
