using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class DashboardIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:PostgresExtension:pg_trgm", ",,");

            migrationBuilder.CreateIndex(
                name: "ix_machines_edition_id_hostname",
                table: "machines",
                columns: new[] { "edition_id", "hostname" });

            migrationBuilder.CreateIndex(
                name: "ix_machines_kms_host",
                table: "machines",
                column: "kms_host");

            migrationBuilder.CreateIndex(
                name: "ix_machines_last_collected_at",
                table: "machines",
                column: "last_collected_at");

            migrationBuilder.CreateIndex(
                name: "ix_machines_manufacturer_model",
                table: "machines",
                columns: new[] { "manufacturer", "model" });

            migrationBuilder.CreateIndex(
                name: "ix_machines_serial_number",
                table: "machines",
                column: "serial_number")
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "gin_trgm_ops" });

            migrationBuilder.CreateIndex(
                name: "ix_machines_windows_channel_hostname",
                table: "machines",
                columns: new[] { "windows_channel", "hostname" });

            migrationBuilder.CreateIndex(
                name: "ix_machines_windows_partial_key",
                table: "machines",
                column: "windows_partial_key");

            migrationBuilder.CreateIndex(
                name: "ix_machines_windows_status_hostname",
                table: "machines",
                columns: new[] { "windows_status", "hostname" });

            migrationBuilder.CreateIndex(
                name: "ix_flags_first_seen_at",
                table: "flags",
                column: "first_seen_at");

            migrationBuilder.CreateIndex(
                name: "ix_flags_rule_status_machine_id",
                table: "flags",
                columns: new[] { "rule", "status", "machine_id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_machines_edition_id_hostname",
                table: "machines");

            migrationBuilder.DropIndex(
                name: "ix_machines_kms_host",
                table: "machines");

            migrationBuilder.DropIndex(
                name: "ix_machines_last_collected_at",
                table: "machines");

            migrationBuilder.DropIndex(
                name: "ix_machines_manufacturer_model",
                table: "machines");

            migrationBuilder.DropIndex(
                name: "ix_machines_serial_number",
                table: "machines");

            migrationBuilder.DropIndex(
                name: "ix_machines_windows_channel_hostname",
                table: "machines");

            migrationBuilder.DropIndex(
                name: "ix_machines_windows_partial_key",
                table: "machines");

            migrationBuilder.DropIndex(
                name: "ix_machines_windows_status_hostname",
                table: "machines");

            migrationBuilder.DropIndex(
                name: "ix_flags_first_seen_at",
                table: "flags");

            migrationBuilder.DropIndex(
                name: "ix_flags_rule_status_machine_id",
                table: "flags");

            migrationBuilder.AlterDatabase()
                .OldAnnotation("Npgsql:PostgresExtension:pg_trgm", ",,");
        }
    }
}
