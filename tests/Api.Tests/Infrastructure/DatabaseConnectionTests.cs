using System.Net;
using Microsoft.Extensions.Options;
using Npgsql;
using TuningService.Api.Infrastructure;
using TuningService.Api.Limits;

namespace TuningService.Api.Tests.Infrastructure;

/// <summary>The Api with a two-connection pool, so a test can hold every connection of it.</summary>
public sealed class TinyPoolApiFactory : ApiFactory
{
    public const int PoolSize = 2;

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [new("ConnectionStrings:Tuning", $"{ConnectionString};Maximum Pool Size={PoolSize}")];

    /// <summary>Exactly the connection string the Api's requests use, hence the same Npgsql pool.</summary>
    public string RequestsConnectionString => DatabaseConnection.ForRequests(
        $"{ConnectionString};Maximum Pool Size={PoolSize}", GetService<IOptions<ApiLimitsOptions>>().Value);
}

public sealed class DatabaseConnectionTests(TinyPoolApiFactory api) : IClassFixture<TinyPoolApiFactory>
{
    [Fact]
    public async Task Request_QueuesForAPooledConnection_InsteadOfAnswering503_WhileEveryConnectionIsBusy()
    {
        var admin = api.CreateAdminClient();
        var held = new List<NpgsqlConnection>();
        for (var i = 0; i < TinyPoolApiFactory.PoolSize; i++)
        {
            var connection = new NpgsqlConnection(api.RequestsConnectionString);
            await connection.OpenAsync();
            held.Add(connection);
        }

        var waiting = admin.GetAsync("/v1/organization/projects");
        // Longer than the 5 s the Api used to wait before its 503: the request must still be waiting, not failed.
        await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(6)));
        foreach (var connection in held) await connection.DisposeAsync();

        var response = await waiting;
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public void Hangfire_HasItsOwnSmallPool_SoEnqueuesNeverTakeTheRequestsConnections()
    {
        var limits = new ApiLimitsOptions();
        var requests = new NpgsqlConnectionStringBuilder(DatabaseConnection.ForRequests("Host=db;Database=tuning", limits));
        var hangfire = new NpgsqlConnectionStringBuilder(DatabaseConnection.ForHangfire("Host=db;Database=tuning", limits));

        Assert.NotEqual(requests.ApplicationName, hangfire.ApplicationName);
        Assert.Equal(DatabaseConnection.HangfireMaxPoolSize, hangfire.MaxPoolSize);
        Assert.Equal(limits.DatabaseConnectTimeoutSeconds, requests.Timeout);
        Assert.Equal(limits.DatabaseConnectTimeoutSeconds, hangfire.Timeout);
    }

    [Fact]
    public void ValuesTheConnectionStringSets_Win()
    {
        const string given = "Host=db;Database=tuning;Timeout=7;Maximum Pool Size=3;Application Name=ops";
        var requests = new NpgsqlConnectionStringBuilder(DatabaseConnection.ForRequests(given, new ApiLimitsOptions()));
        var hangfire = new NpgsqlConnectionStringBuilder(DatabaseConnection.ForHangfire(given, new ApiLimitsOptions()));

        Assert.Equal((7, 3, "ops"), (requests.Timeout, requests.MaxPoolSize, requests.ApplicationName));
        Assert.Equal((7, 3, "ops (Hangfire)"), (hangfire.Timeout, hangfire.MaxPoolSize, hangfire.ApplicationName));
    }
}
