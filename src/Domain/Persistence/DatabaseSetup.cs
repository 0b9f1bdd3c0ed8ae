using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using TuningService.Domain.Projects;

namespace TuningService.Domain.Persistence;

public static class DatabaseSetup
{
    /// <summary>Applies pending migrations and makes sure the admin key's default project exists.</summary>
    public static async Task MigrateAsync(TuningDbContext db, CancellationToken ct = default)
    {
        await db.Database.MigrateAsync(ct);
        if (!await db.Projects.AnyAsync(p => p.Id == Project.DefaultProjectId, ct))
        {
            db.Projects.Add(new Project { Id = Project.DefaultProjectId, Name = "Default project" });
            await db.SaveChangesAsync(ct);
        }
    }

    /// <summary>True when every migration this build knows has been applied.</summary>
    public static async Task<bool> IsSchemaCurrentAsync(TuningDbContext db, CancellationToken ct = default)
    {
        var pending = await db.Database.GetPendingMigrationsAsync(ct);
        return !pending.Any();
    }

    /// <summary>Blocks until the API has applied the schema (the worker never migrates).</summary>
    public static async Task WaitForSchemaAsync(Func<TuningDbContext> createDb, ILogger logger, CancellationToken ct)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                await using var db = createDb();
                if (await IsSchemaCurrentAsync(db, ct)) return;
                logger.LogInformation("Waiting for the API to apply database migrations...");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Database not reachable yet: {Message}", ex.Message);
            }
            await Task.Delay(delay, ct);
            delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 10));
        }
    }
}
