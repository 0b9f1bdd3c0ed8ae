using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using TuningService.Domain.Jobs;
using TuningService.Domain.Projects;
using TuningService.Domain.Webhooks;
using TuningService.Testing;

namespace TuningService.Domain.Tests.Persistence;

/// <summary>
/// The webhook outbox rows come from triggers in the transaction of the change they announce, whoever makes it:
/// a committed change always has its event, a rolled-back one never does.
/// </summary>
public sealed class WebhookOutboxTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    private async Task<string> QueuedJobAsync()
    {
        var job = new TrainingJob
        {
            Id = Ids.New("ftjob-"), ProjectId = Project.DefaultProjectId, Model = "tiny-gpt2", TrainingFileId = "file-x",
            MethodType = "supervised", Spec = JsonDocument.Parse("{}"),
        };
        await using var db = database.CreateDbContext();
        db.Jobs.Add(job);
        db.JobEvents.Add(job.MarkQueued(DateTimeOffset.UtcNow));
        await db.SaveChangesAsync();
        return job.Id;
    }

    private async Task<List<string>> EventTypesAsync(string jobId)
    {
        await using var db = database.CreateDbContext();
        return await db.WebhookEvents.Where(e => e.JobId == jobId).OrderBy(e => e.Id).Select(e => e.Type).ToListAsync();
    }

    [Fact]
    public async Task StatusChangesAndCheckpoints_WriteOneOutboxRowEach_OnlyForTheAnnouncedTypes()
    {
        var jobId = await QueuedJobAsync();
        await using (var db = database.CreateDbContext())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
            db.JobEvents.Add(job.Claim("w1", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5))!);
            await db.SaveChangesAsync();
            job.Heartbeat("w1", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)); // no status change: no event
            job.Step = 3;
            await db.SaveChangesAsync();
            db.Checkpoints.Add(new JobCheckpoint { Id = Ids.New("ftckpt-"), JobId = jobId, Step = 3, ArtifactPath = "x", FineTunedModelCheckpoint = "m" });
            db.JobEvents.Add(job.Succeed(DateTimeOffset.UtcNow, "ft:m", 1, []));
            await db.SaveChangesAsync();
        }
        Assert.Equal([WebhookEventTypes.JobRunning, WebhookEventTypes.CheckpointCreated, WebhookEventTypes.JobSucceeded], await EventTypesAsync(jobId));
    }

    [Fact]
    public async Task AChangeRolledBack_LeavesNoOutboxRow()
    {
        var jobId = await QueuedJobAsync();
        await using (var db = database.CreateDbContext())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
            db.JobEvents.Add(job.Cancel(DateTimeOffset.UtcNow));
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        }
        Assert.Empty(await EventTypesAsync(jobId));
    }

    [Fact]
    public async Task AJobEventInsert_NotifiesListenersWithTheJobId_AtCommit()
    {
        var jobId = await QueuedJobAsync();
        await using var listener = new NpgsqlConnection(database.ConnectionString);
        await listener.OpenAsync();
        var payloads = new List<string>();
        listener.Notification += (_, e) => payloads.Add(e.Payload);
        await using (var listen = new NpgsqlCommand("LISTEN job_events", listener)) await listen.ExecuteNonQueryAsync();

        await using (var db = database.CreateDbContext())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
            db.JobEvents.Add(job.RecordEvent(DateTimeOffset.UtcNow, "one"));
            db.JobEvents.Add(job.RecordEvent(DateTimeOffset.UtcNow, "two"));
            await db.SaveChangesAsync();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await listener.WaitAsync(timeout.Token);
        Assert.Equal(jobId, payloads[0]);
    }
}
