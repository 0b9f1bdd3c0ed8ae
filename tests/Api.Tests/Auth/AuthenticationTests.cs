using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TuningService.Api.Tests.Infrastructure;
using TuningService.Domain.Projects;

namespace TuningService.Api.Tests.Auth;

public sealed class AuthenticationTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task V1Route_WithoutKey_Is401WithOpenAiErrorShape()
    {
        var response = await api.CreateClient(apiKey: null).GetAsync("/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("missing_api_key", error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.True(error.TryGetProperty("param", out _));
    }

    [Fact]
    public async Task V1Route_WithWrongKey_Is401InvalidApiKey()
    {
        var response = await api.CreateClient("sk-wrong").GetAsync("/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task AdminKey_OwnsTheDefaultProject()
    {
        var me = await api.CreateAdminClient().GetFromJsonAsync<JsonElement>("/v1/me");
        Assert.Equal(Project.DefaultProjectId, me.GetProperty("project_id").GetString());
        Assert.True(me.GetProperty("admin").GetBoolean());
    }

    [Fact]
    public async Task ProjectKey_IsAcceptedByItsHash_AndRejectedOnceRevoked()
    {
        var (key, secret) = ApiKey.Create(Project.DefaultProjectId, "test");
        await using (var db = api.CreateDbContext())
        {
            db.ApiKeys.Add(key);
            await db.SaveChangesAsync();
        }
        var client = api.CreateClient(secret);
        var me = await client.GetFromJsonAsync<JsonElement>("/v1/me");
        Assert.False(me.GetProperty("admin").GetBoolean());

        await using (var db = api.CreateDbContext())
        {
            db.ApiKeys.Single(k => k.Id == key.Id).RevokedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync();
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v1/me")).StatusCode);
    }

    [Fact]
    public async Task HangfireDashboard_IsForTheAdminKeyOnly()
    {
        var anonymous = await api.CreateClient(apiKey: null).GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("Basic", anonymous.Headers.WwwAuthenticate.ToString());

        var (key, secret) = ApiKey.Create(Project.DefaultProjectId, "not-admin");
        await using (var db = api.CreateDbContext())
        {
            db.ApiKeys.Add(key);
            await db.SaveChangesAsync();
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.CreateClient(secret).GetAsync("/hangfire")).StatusCode);

        var admin = await api.CreateAdminClient().GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Contains("Hangfire", await admin.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task HangfireDashboard_AcceptsTheAdminKeyAsABasicPassword_ForBrowsers()
    {
        static HttpClient Basic(HttpClient client, string password)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"anyone:{password}")));
            return client;
        }

        var admin = await Basic(api.CreateClient(apiKey: null), ApiFactory.AdminKey).GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);

        var wrong = await Basic(api.CreateClient(apiKey: null), "not-the-admin-key").GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("Basic", wrong.Headers.WwwAuthenticate.ToString());

        // The dashboard's login is its own: a Basic header is no key for the API.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Basic(api.CreateClient(apiKey: null), ApiFactory.AdminKey).GetAsync("/v1/me")).StatusCode);
    }
}
