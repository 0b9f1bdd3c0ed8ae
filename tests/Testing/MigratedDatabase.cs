using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Persistence;
using Xunit;

namespace TuningService.Testing;

/// <summary>A fresh database with every migration applied; one per test class (xunit class fixture).</summary>
public sealed class MigratedDatabase : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";

    public TuningDbContext CreateDbContext() =>
        new(new DbContextOptionsBuilder<TuningDbContext>().UseNpgsql(ConnectionString).Options);

    public async Task InitializeAsync()
    {
        ConnectionString = await PostgresServer.Instance.CreateDatabaseAsync("domain");
        await using var db = CreateDbContext();
        await DatabaseSetup.MigrateAsync(db);
    }

    public Task DisposeAsync() => PostgresServer.Instance.DropDatabaseAsync(ConnectionString);
}
