using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class FlagChangesAndAlertCursor : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "changed_at",
                table: "flags",
                type: "timestamptz",
                nullable: false,
                defaultValueSql: "now()");

            migrationBuilder.CreateTable(
                name: "alert_cursor",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    flags_read_until = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    rules = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_alert_cursor", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_flags_changed_at",
                table: "flags",
                column: "changed_at");

            // Alerts of these rules now come from flags, one per flag (subject = the flag id); the machine-level
            // rows of before close without a notice, and their conditions alert again through their flags.
            migrationBuilder.Sql("""
                UPDATE alert_states SET status = 'Resolved', resolved_at = now(), resolution = 'superseded'
                WHERE status <> 'Resolved' AND subject = '' AND rule IN ('not-activated', 'notification-mode', 'grace-ending');
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "alert_cursor");

            migrationBuilder.DropIndex(
                name: "ix_flags_changed_at",
                table: "flags");

            migrationBuilder.DropColumn(
                name: "changed_at",
                table: "flags");
        }
    }
}
