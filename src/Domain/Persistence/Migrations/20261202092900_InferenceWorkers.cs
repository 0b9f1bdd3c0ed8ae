using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TuningService.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class InferenceWorkers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "inference_workers",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    address = table.Column<string>(type: "text", nullable: false),
                    resident_models = table.Column<string>(type: "jsonb", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    heartbeat_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_inference_workers", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_inference_workers_heartbeat_at",
                table: "inference_workers",
                column: "heartbeat_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "inference_workers");
        }
    }
}
