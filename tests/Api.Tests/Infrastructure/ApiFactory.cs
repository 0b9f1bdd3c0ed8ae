using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using TuningService.Api.Infrastructure;
using TuningService.Api.Limits;
using TuningService.Domain.Persistence;
using TuningService.Testing;

namespace TuningService.Api.Tests.Infrastructure;

/// <summary>The real API on a fresh PostgreSQL database of its own. One per test class.</summary>
public class ApiFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminKey = "test-admin-key";

    public string ConnectionString { get; private set; } = "";
    /// <summary>This factory's own folder (artifacts and whatever a derived factory keeps), deleted at dispose.</summary>
    protected TempDirectory Scratch { get; } = new("tuning-api-");

    public string ArtifactsRoot => Directory.CreateDirectory(Scratch.Sub("artifacts")).FullName;

    /// <summary>Extra settings a derived factory wants (limits, rate limits, ...).</summary>
    protected virtual IEnumerable<KeyValuePair<string, string>> Settings => [];

    public async Task InitializeAsync()
    {
        ConnectionString = await PostgresServer.Instance.CreateDatabaseAsync("api");
        _ = Server; // start the host: migrations run now
        HangfireTestLogging.Unbind();
    }

    public new async Task DisposeAsync()
    {
        var configured = Services.GetRequiredService<IConfiguration>().GetConnectionString("Tuning")!;
        var limits = Services.GetRequiredService<IOptions<ApiLimitsOptions>>().Value;
        await base.DisposeAsync();
        // Npgsql's pools outlive the host: close this database's idle connections now, not after 5 idle minutes, so a
        // finished class does not hold PostgreSQL's connection slots while the next ones burst.
        foreach (var pool in new[] { DatabaseConnection.ForRequests(configured, limits), DatabaseConnection.ForHangfire(configured, limits) })
            NpgsqlConnection.ClearPool(new NpgsqlConnection(pool));
        await PostgresServer.Instance.DropDatabaseAsync(ConnectionString);
        Scratch.Dispose();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Tuning", ConnectionString);
        builder.UseSetting("Tuning:AdminApiKey", AdminKey);
        builder.UseSetting("Tuning:ArtifactsRoot", ArtifactsRoot);
        // The webhook dispatcher and its Hangfire server hold database connections; only the factories that test
        // webhooks or job-duration metrics turn them on, so dozens of parallel test hosts stay within max_connections.
        builder.UseSetting("Webhooks:RunDeliveryServer", "false");
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
    }

    public HttpClient CreateClient(string? apiKey)
    {
        var client = CreateClient();
        if (apiKey is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    public HttpClient CreateAdminClient() => CreateClient(AdminKey);

    public TuningDbContext CreateDbContext() =>
        new(new DbContextOptionsBuilder<TuningDbContext>().UseNpgsql(ConnectionString).Options);

    public T GetService<T>() where T : notnull => Services.GetRequiredService<T>();
}
