using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Jobs;
using TuningService.Domain.Projects;
using TuningService.Domain.Webhooks;

namespace TuningService.Domain.Persistence;

/// <summary>Tables of the webhooks feature; the outbox triggers and the event notifications are in migration AddWebhooksAndEventNotifications.</summary>
internal static class WebhookModel
{
    public static void Configure(ModelBuilder b)
    {
        b.Entity<WebhookEndpoint>(e =>
        {
            e.ToTable("webhook_endpoints");
            e.HasIndex(w => new { w.ProjectId, w.CreatedAt });
            e.HasOne<Project>().WithMany().HasForeignKey(w => w.ProjectId);
            e.Property(w => w.Url).HasMaxLength(2048);
            e.Property(w => w.Events).HasColumnType("jsonb").HasConversion(JsonColumns.ListConverter, JsonColumns.ListComparer);
        });

        b.Entity<WebhookEvent>(e =>
        {
            e.ToTable("webhook_events");
            // The dispatcher's work list: only undispatched rows are indexed.
            e.HasIndex(ev => ev.Id).HasFilter("dispatched_at IS NULL").HasDatabaseName("ix_webhook_events_undispatched");
            e.HasOne<TrainingJob>().WithMany().HasForeignKey(ev => ev.JobId).OnDelete(DeleteBehavior.Cascade);
            e.Property(ev => ev.CreatedAt).HasDefaultValueSql("now()");
            e.Ignore(ev => ev.PublicId);
        });

        b.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("webhook_deliveries");
            e.HasIndex(d => new { d.EndpointId, d.Id });
            e.HasIndex(d => new { d.EventId, d.EndpointId });
            e.HasOne<WebhookEndpoint>().WithMany().HasForeignKey(d => d.EndpointId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<WebhookEvent>().WithMany().HasForeignKey(d => d.EventId).OnDelete(DeleteBehavior.Cascade);
            e.Ignore(d => d.PublicId);
        });
    }
}
