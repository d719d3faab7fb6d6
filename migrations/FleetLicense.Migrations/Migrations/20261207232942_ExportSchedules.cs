using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class ExportSchedules : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "schedule_id",
                table: "exports",
                type: "bigint",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "export_schedules",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    cron = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    report = table.Column<string>(type: "text", nullable: false),
                    format = table.Column<string>(type: "text", nullable: false),
                    filters = table.Column<string>(type: "text", nullable: false),
                    recipients = table.Column<List<string>>(type: "text[]", nullable: false),
                    owner = table.Column<string>(type: "text", nullable: false),
                    owner_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    next_run_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    last_run_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true),
                    last_export_id = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_export_schedules", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_exports_schedule_id",
                table: "exports",
                column: "schedule_id");

            migrationBuilder.CreateIndex(
                name: "ix_export_schedules_next_run_at",
                table: "export_schedules",
                column: "next_run_at");

            migrationBuilder.AddForeignKey(
                name: "fk_exports_export_schedules_schedule_id",
                table: "exports",
                column: "schedule_id",
                principalTable: "export_schedules",
                principalColumn: "id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_exports_export_schedules_schedule_id",
                table: "exports");

            migrationBuilder.DropTable(
                name: "export_schedules");

            migrationBuilder.DropIndex(
                name: "ix_exports_schedule_id",
                table: "exports");

            migrationBuilder.DropColumn(
                name: "schedule_id",
                table: "exports");
        }
    }
}
