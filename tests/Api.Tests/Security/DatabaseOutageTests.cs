using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Npgsql;
using TuningService.Api.Tests.Infrastructure;
using TuningService.Api.Tests.Organization;
using TuningService.Testing;

namespace TuningService.Api.Tests.Security;

/// <summary>
/// Tests that stop the shared PostgreSQL cluster. Nothing may run beside them: every other test class uses the same
/// cluster.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DatabaseOutageCollection
{
    public const string Name = "PostgreSQL outage";
}

[Collection(DatabaseOutageCollection.Name)]
public sealed class DatabaseOutageTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static readonly TimeSpan FailFast = TimeSpan.FromSeconds(10);

    [OwnedPostgresFact]
    public async Task WhilePostgresIsDown_RequestsFailFastWith503AndReadinessIs503_ThenTheApiRecoversByItself()
    {
        var admin = api.CreateAdminClient();
        var anonymous = api.CreateClient(apiKey: null);
        var (_, secret) = await api.InsertKeyAsync();
        var projectKey = api.CreateClient(secret);
        // Fill the connection pool, so recovery is tested against connections that died with the server.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => projectKey.GetAsync("/v1/me")));
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/ready")).StatusCode);

        try
        {
            PostgresServer.Instance.Stop(clearPools: false);

            var ready = await TimedAsync(() => anonymous.GetAsync("/health/ready"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);

            foreach (var request in new Func<Task<HttpResponseMessage>>[]
                     {
                         () => admin.GetAsync("/v1/organization/projects"),
                         () => admin.PostAsJsonAsync("/v1/organization/projects", new { name = "during outage" }),
                         () => projectKey.GetAsync("/v1/me"), // the key lookup itself needs the database: 503, not 401
                     })
            {
                var response = await TimedAsync(request);
                await ErrorShape.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "service_unavailable");
                Assert.True(response.Headers.RetryAfter is not null, "503 must carry Retry-After");
            }
        }
        finally
        {
            PostgresServer.Instance.StartAgain(clearPools: false);
        }

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await projectKey.GetAsync("/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync("/v1/organization/projects", new { name = "after outage" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/organization/projects")).StatusCode);
        await using var db = api.CreateDbContext();
        NpgsqlConnection.ClearPool(new NpgsqlConnection(api.ConnectionString)); // the test's own pool died with the server too
        Assert.Equal(1, db.Projects.Count(p => p.Name == "after outage"));
        Assert.Equal(0, db.Projects.Count(p => p.Name == "during outage"));
    }

    [OwnedPostgresFact]
    public async Task AfterAQuickRestartThatNoRequestSaw_TheFirstRequestsSucceed()
    {
        var admin = api.CreateAdminClient();
        var (_, secret) = await api.InsertKeyAsync();
        var projectKey = api.CreateClient(secret);
        // Several pooled connections, all of which the restart kills.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => projectKey.GetAsync("/v1/me")));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => admin.GetAsync("/v1/organization/projects")));

        try
        {
            PostgresServer.Instance.Stop(clearPools: false);
            await Task.Delay(TimeSpan.FromSeconds(3)); // an outage no request sees, longer than the keepalive interval
        }
        finally
        {
            PostgresServer.Instance.StartAgain(clearPools: false);
        }

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await projectKey.GetAsync("/v1/me")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/organization/projects")).StatusCode);
        }
    }

    private static async Task<HttpResponseMessage> TimedAsync(Func<Task<HttpResponseMessage>> request)
    {
        var clock = Stopwatch.StartNew();
        var response = await request();
        Assert.True(clock.Elapsed < FailFast, $"took {clock.Elapsed.TotalSeconds:F1} s; must fail fast");
        return response;
    }
}
