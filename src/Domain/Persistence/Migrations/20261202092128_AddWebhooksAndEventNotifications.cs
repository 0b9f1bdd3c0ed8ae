using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace TuningService.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class AddWebhooksAndEventNotifications : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "webhook_endpoints",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    project_id = table.Column<string>(type: "text", nullable: false),
                    url = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    events = table.Column<string>(type: "jsonb", nullable: false),
                    secret = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_endpoints", x => x.id);
                    table.ForeignKey(
                        name: "FK_webhook_endpoints_projects_project_id",
                        column: x => x.project_id,
                        principalTable: "projects",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "webhook_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    project_id = table.Column<string>(type: "text", nullable: false),
                    job_id = table.Column<string>(type: "text", nullable: false),
                    type = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    dispatched_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_events", x => x.id);
                    table.ForeignKey(
                        name: "FK_webhook_events_training_jobs_job_id",
                        column: x => x.job_id,
                        principalTable: "training_jobs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "webhook_deliveries",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    endpoint_id = table.Column<string>(type: "text", nullable: false),
                    event_id = table.Column<long>(type: "bigint", nullable: false),
                    event_type = table.Column<string>(type: "text", nullable: false),
                    attempt = table.Column<int>(type: "integer", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    status_code = table.Column<int>(type: "integer", nullable: true),
                    succeeded = table.Column<bool>(type: "boolean", nullable: false),
                    error = table.Column<string>(type: "text", nullable: true),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_deliveries", x => x.id);
                    table.ForeignKey(
                        name: "FK_webhook_deliveries_webhook_endpoints_endpoint_id",
                        column: x => x.endpoint_id,
                        principalTable: "webhook_endpoints",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_webhook_deliveries_webhook_events_event_id",
                        column: x => x.event_id,
                        principalTable: "webhook_events",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_endpoint_id_id",
                table: "webhook_deliveries",
                columns: new[] { "endpoint_id", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_event_id_endpoint_id",
                table: "webhook_deliveries",
                columns: new[] { "event_id", "endpoint_id" });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_endpoints_project_id_created_at",
                table: "webhook_endpoints",
                columns: new[] { "project_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_events_job_id",
                table: "webhook_events",
                column: "job_id");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_events_undispatched",
                table: "webhook_events",
                column: "id",
                filter: "dispatched_at IS NULL");

            // The webhook outbox is written by triggers, in the transaction of the change it announces, whichever
            // process (Api cancel, worker) makes it; pg_notify wakes the Api's dispatcher when that transaction commits.
            migrationBuilder.Sql("""
                CREATE FUNCTION webhook_event_on_job_status() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.status IN ('running', 'succeeded', 'failed', 'cancelled') THEN
                        INSERT INTO webhook_events (project_id, job_id, type) VALUES (NEW.project_id, NEW.id, 'fine_tuning.job.' || NEW.status);
                        PERFORM pg_notify('webhook_events', '');
                    END IF;
                    RETURN NULL;
                END $$;

                CREATE TRIGGER training_jobs_webhook_event_on_insert AFTER INSERT ON training_jobs
                    FOR EACH ROW EXECUTE FUNCTION webhook_event_on_job_status();
                CREATE TRIGGER training_jobs_webhook_event_on_status AFTER UPDATE OF status ON training_jobs
                    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION webhook_event_on_job_status();

                CREATE FUNCTION webhook_event_on_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO webhook_events (project_id, job_id, type)
                        SELECT j.project_id, j.id, 'fine_tuning.job.checkpoint.created' FROM training_jobs j WHERE j.id = NEW.job_id;
                    PERFORM pg_notify('webhook_events', '');
                    RETURN NULL;
                END $$;

                CREATE TRIGGER job_checkpoints_webhook_event AFTER INSERT ON job_checkpoints
                    FOR EACH ROW EXECUTE FUNCTION webhook_event_on_checkpoint();

                -- Live event streams (SSE): every Api instance LISTENs on job_events; the payload is the job id.
                -- Notifications are sent at commit, and identical ones in one transaction are folded into one.
                CREATE FUNCTION notify_job_event() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('job_events', NEW.job_id);
                    RETURN NULL;
                END $$;

                CREATE TRIGGER job_events_notify AFTER INSERT ON job_events
                    FOR EACH ROW EXECUTE FUNCTION notify_job_event();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER job_events_notify ON job_events;
                DROP FUNCTION notify_job_event();
                DROP TRIGGER job_checkpoints_webhook_event ON job_checkpoints;
                DROP FUNCTION webhook_event_on_checkpoint();
                DROP TRIGGER training_jobs_webhook_event_on_status ON training_jobs;
                DROP TRIGGER training_jobs_webhook_event_on_insert ON training_jobs;
                DROP FUNCTION webhook_event_on_job_status();
                """);
            migrationBuilder.DropTable(
                name: "webhook_deliveries");

            migrationBuilder.DropTable(
                name: "webhook_endpoints");

            migrationBuilder.DropTable(
                name: "webhook_events");
        }
    }
}
