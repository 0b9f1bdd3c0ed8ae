using System.Net;
using TuningService.Api.Tests.Infrastructure;
using TuningService.Api.Tests.Organization;

namespace TuningService.Api.Tests.Security;

/// <summary>The API with a budget of three requests per key per minute.</summary>
public sealed class TinyRateLimitApiFactory : ApiFactory
{
    public const int Permits = 3;

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Limits:RateLimitRequestsPerWindow", Permits.ToString()),
        new("Limits:RateLimitWindowSeconds", "60"),
    ];
}

public sealed class RateLimitTests(TinyRateLimitApiFactory api) : IClassFixture<TinyRateLimitApiFactory>
{
    [Fact]
    public async Task AKeyOverItsBudget_Gets429InErrorShape_WithRetryAfterSeconds()
    {
        var (_, secret) = await api.InsertKeyAsync();
        var client = api.CreateClient(secret);
        for (var i = 0; i < TinyRateLimitApiFactory.Permits; i++)
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/me")).StatusCode);

        var limited = await client.GetAsync("/v1/me");
        var error = await ErrorShape.AssertAsync(limited, HttpStatusCode.TooManyRequests, "rate_limit_exceeded");
        Assert.Equal("requests", error.GetProperty("type").GetString());
        var retryAfter = Assert.Single(limited.Headers.GetValues("Retry-After"));
        Assert.InRange(int.Parse(retryAfter), 1, 60);
    }

    [Fact]
    public async Task EachKeyHasItsOwnBudget_TheAdminKeyIncluded()
    {
        var (_, first) = await api.InsertKeyAsync();
        var (_, second) = await api.InsertKeyAsync();
        var exhausted = api.CreateClient(first);
        for (var i = 0; i <= TinyRateLimitApiFactory.Permits; i++) await exhausted.GetAsync("/v1/me");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await exhausted.GetAsync("/v1/me")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await api.CreateClient(second).GetAsync("/v1/me")).StatusCode);

        var admin = api.CreateAdminClient();
        var adminStatuses = new List<HttpStatusCode>();
        for (var i = 0; i <= TinyRateLimitApiFactory.Permits; i++) adminStatuses.Add((await admin.GetAsync("/v1/organization/projects")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, adminStatuses[^1]);
    }

    [Fact]
    public async Task RequestsWithoutAValidKey_ShareOneBudgetPerClient()
    {
        var anonymous = api.CreateClient("sk-tun-guessing");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= TinyRateLimitApiFactory.Permits; i++) statuses.Add((await anonymous.GetAsync("/v1/me")).StatusCode);
        Assert.All(statuses[..^1], s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
    }

    [Fact]
    public async Task HealthAndSwagger_AreNeverRateLimited()
    {
        var (_, secret) = await api.InsertKeyAsync();
        var client = api.CreateClient(secret);
        for (var i = 0; i < TinyRateLimitApiFactory.Permits * 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/v1/swagger.json")).StatusCode);
        }
    }
}
