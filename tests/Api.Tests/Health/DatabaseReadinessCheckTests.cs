using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TuningService.Api.Health;
using HealthStatus = Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus;
using TuningService.Domain.Persistence;
using TuningService.Testing;

namespace TuningService.Api.Tests.Health;

public sealed class DatabaseReadinessCheckTests
{
    [Fact]
    public async Task Check_IsUnhealthy_MigrationsPending_OnADatabaseWithoutTheSchema()
    {
        await using var db = Context(await PostgresServer.Instance.CreateDatabaseAsync("unmigrated"));
        var result = await Check(db);
        Assert.Equal((HealthStatus.Unhealthy, "database migrations pending"), (result.Status, result.Description));
    }

    [Fact]
    public async Task Check_IsUnhealthy_DatabaseUnavailable_WhenNothingListens()
    {
        await using var db = Context($"Host=127.0.0.1;Port={ClosedPort()};Database=none;Timeout=3");
        var result = await Check(db);
        Assert.Equal((HealthStatus.Unhealthy, "database unavailable"), (result.Status, result.Description));
        Assert.NotNull(result.Exception);
    }

    private static Task<HealthCheckResult> Check(TuningDbContext db) =>
        new DatabaseReadinessCheck(db).CheckHealthAsync(new HealthCheckContext
        {
            Registration = new HealthCheckRegistration(DatabaseReadinessCheck.Name, new DatabaseReadinessCheck(db), null, null),
        });

    private static TuningDbContext Context(string connectionString) =>
        new(new DbContextOptionsBuilder<TuningDbContext>().UseNpgsql(connectionString).Options);

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port; // closed again when the listener is disposed
    }
}
