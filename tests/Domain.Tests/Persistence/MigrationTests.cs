using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;
using TuningService.Domain.Projects;
using TuningService.Testing;

namespace TuningService.Domain.Tests.Persistence;

public sealed class MigrationTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    [Fact]
    public async Task Migrate_CreatesSchemaAndDefaultProject_AndIsIdempotent()
    {
        await using var db = database.CreateDbContext();
        await DatabaseSetup.MigrateAsync(db);
        Assert.True(await DatabaseSetup.IsSchemaCurrentAsync(db));
        Assert.Equal(1, await db.Projects.CountAsync(p => p.Id == Project.DefaultProjectId));
    }

    [Fact]
    public async Task SaveJob_WithStaleVersion_ThrowsConcurrencyException()
    {
        var jobId = Ids.New("ftjob-");
        await using (var db = database.CreateDbContext())
        {
            db.Jobs.Add(NewJob(jobId));
            await db.SaveChangesAsync();
        }

        await using var first = database.CreateDbContext();
        await using var second = database.CreateDbContext();
        var a = await first.Jobs.SingleAsync(j => j.Id == jobId);
        var b = await second.Jobs.SingleAsync(j => j.Id == jobId);
        first.JobEvents.Add(a.MarkQueued(DateTimeOffset.UtcNow));
        await first.SaveChangesAsync();

        second.JobEvents.Add(b.Cancel(DateTimeOffset.UtcNow));
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => second.SaveChangesAsync());

        await using var check = database.CreateDbContext();
        Assert.Equal(JobStatus.Queued, (await check.Jobs.SingleAsync(j => j.Id == jobId)).Status);
    }

    [Fact]
    public async Task ApiKey_IsStoredHashed_NotInPlainText()
    {
        var (key, secret) = ApiKey.Create(Project.DefaultProjectId, "ci");
        await using (var db = database.CreateDbContext())
        {
            db.ApiKeys.Add(key);
            await db.SaveChangesAsync();
        }
        await using var read = database.CreateDbContext();
        var stored = await read.ApiKeys.SingleAsync(k => k.Id == key.Id);
        Assert.NotEqual(secret, stored.Hash);
        Assert.Equal(ApiKey.HashSecret(secret), stored.Hash);
        Assert.DoesNotContain(secret, stored.RedactedValue);
    }

    public static TrainingJob NewJob(string id) => new()
    {
        Id = id,
        ProjectId = Project.DefaultProjectId,
        Model = "tiny-gpt2",
        TrainingFileId = "file-x",
        MethodType = "supervised",
        Spec = System.Text.Json.JsonDocument.Parse("{}"),
    };
}
