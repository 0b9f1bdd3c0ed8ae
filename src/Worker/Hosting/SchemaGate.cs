using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Persistence;

namespace TuningService.Worker.Hosting;

/// <summary>
/// Registered before the Hangfire server: hosted services start in order, so no job is taken before the
/// API has applied every migration this build knows. The worker never migrates.
/// </summary>
public sealed class SchemaGate(IDbContextFactory<TuningDbContext> dbFactory, ILogger<SchemaGate> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        DatabaseSetup.WaitForSchemaAsync(() => dbFactory.CreateDbContext(), logger, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
