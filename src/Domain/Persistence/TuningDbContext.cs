using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Files;
using TuningService.Domain.Inference;
using TuningService.Domain.Jobs;
using TuningService.Domain.Models;
using TuningService.Domain.Projects;
using TuningService.Domain.Webhooks;

namespace TuningService.Domain.Persistence;

/// <summary>Everything that must not be lost. Tables and columns are snake_case; Hangfire keeps its own schema.</summary>
public sealed class TuningDbContext(DbContextOptions<TuningDbContext> options) : DbContext(options)
{
    public DbSet<Project> Projects => Set<Project>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<DatasetFile> Files => Set<DatasetFile>();
    public DbSet<FileChunk> FileChunks => Set<FileChunk>();
    public DbSet<TrainingJob> Jobs => Set<TrainingJob>();
    public DbSet<JobEvent> JobEvents => Set<JobEvent>();
    public DbSet<JobCheckpoint> Checkpoints => Set<JobCheckpoint>();
    public DbSet<ModelRecord> Models => Set<ModelRecord>();
    public DbSet<WebhookEndpoint> WebhookEndpoints => Set<WebhookEndpoint>();
    public DbSet<WebhookEvent> WebhookEvents => Set<WebhookEvent>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<InferenceWorker> InferenceWorkers => Set<InferenceWorker>();

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<Project>(e =>
        {
            e.ToTable("projects");
            e.Property(p => p.Name).HasMaxLength(256);
        });

        b.Entity<ApiKey>(e =>
        {
            e.ToTable("api_keys");
            e.HasIndex(k => k.Hash).IsUnique();
            e.HasOne<Project>().WithMany().HasForeignKey(k => k.ProjectId);
        });

        b.Entity<DatasetFile>(e =>
        {
            e.ToTable("files");
            e.HasIndex(f => new { f.ProjectId, f.CreatedAt });
            e.HasOne<Project>().WithMany().HasForeignKey(f => f.ProjectId);
            e.Property(f => f.Validation).HasColumnType("jsonb");
        });

        b.Entity<FileChunk>(e =>
        {
            e.ToTable("file_chunks");
            e.HasKey(c => new { c.FileId, c.Index });
            e.HasOne<DatasetFile>().WithMany().HasForeignKey(c => c.FileId).OnDelete(DeleteBehavior.Cascade);
        });

        b.Entity<TrainingJob>(e =>
        {
            e.ToTable("training_jobs");
            e.HasIndex(j => new { j.ProjectId, j.CreatedAt });
            e.HasIndex(j => j.Status);
            e.HasIndex(j => new { j.ProjectId, j.IdempotencyKey }).IsUnique().HasFilter("idempotency_key IS NOT NULL");
            e.HasOne<Project>().WithMany().HasForeignKey(j => j.ProjectId);
            e.Property(j => j.Spec).HasColumnType("jsonb");
            e.Property(j => j.Metadata).HasColumnType("jsonb").HasConversion(JsonColumns.DictionaryConverter, JsonColumns.DictionaryComparer);
            e.Property(j => j.ResultFiles).HasColumnType("jsonb").HasConversion(JsonColumns.ListConverter, JsonColumns.ListComparer);
            e.Property(j => j.LatestMetrics).HasColumnType("jsonb");
            e.Property(j => j.Version).IsRowVersion().HasColumnName("xmin").HasColumnType("xid");
            e.Ignore(j => j.Error);
        });

        b.Entity<JobEvent>(e =>
        {
            e.ToTable("job_events");
            e.HasIndex(ev => new { ev.JobId, ev.Id });
            e.HasOne<TrainingJob>().WithMany().HasForeignKey(ev => ev.JobId).OnDelete(DeleteBehavior.Cascade);
            e.Property(ev => ev.Data).HasColumnType("jsonb");
            e.Ignore(ev => ev.PublicId);
        });

        b.Entity<JobCheckpoint>(e =>
        {
            e.ToTable("job_checkpoints");
            e.HasIndex(c => new { c.JobId, c.Step }).IsUnique();
            e.HasOne<TrainingJob>().WithMany().HasForeignKey(c => c.JobId).OnDelete(DeleteBehavior.Cascade);
            e.Property(c => c.Metrics).HasColumnType("jsonb");
        });

        b.Entity<ModelRecord>(e =>
        {
            e.ToTable("models");
            e.HasIndex(m => new { m.ProjectId, m.CreatedAt });
            e.HasOne<Project>().WithMany().HasForeignKey(m => m.ProjectId);
        });

        WebhookModel.Configure(b);
        b.Entity<InferenceWorker>(e =>
        {
            e.ToTable("inference_workers");
            e.HasIndex(w => w.HeartbeatAt);
            e.Property(w => w.ResidentModels).HasColumnType("jsonb").HasConversion(JsonColumns.ListConverter, JsonColumns.ListComparer);
        });

        UseSnakeCaseColumns(b);
    }

    /// <summary>
    /// Columns named by System.Text.Json's snake_case policy (<c>CreatedAt</c> → <c>created_at</c>); keys and indexes keep
    /// EF's default names (<c>PK_files</c>, <c>IX_…</c>). EFCore.NamingConventions would lower-case those too, and on this
    /// existing schema that means dropping and recreating every primary key (its README warns so), hence the loop.
    /// </summary>
    private static void UseSnakeCaseColumns(ModelBuilder b)
    {
        foreach (var property in b.Model.GetEntityTypes().SelectMany(e => e.GetProperties()).Where(p => !p.IsConcurrencyToken))
            property.SetColumnName(JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name));
    }
}
