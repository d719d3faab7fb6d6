using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class HotLivenessUpdates : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_machines_last_collected_at",
                table: "machines");

            migrationBuilder.DropIndex(
                name: "ix_machines_last_seen_at",
                table: "machines");

            migrationBuilder.AlterTable(
                name: "machines")
                .Annotation("Npgsql:StorageParameter:fillfactor", 70);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterTable(
                name: "machines")
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 70);

            migrationBuilder.CreateIndex(
                name: "ix_machines_last_collected_at",
                table: "machines",
                column: "last_collected_at");

            migrationBuilder.CreateIndex(
                name: "ix_machines_last_seen_at",
                table: "machines",
                column: "last_seen_at");
        }
    }
}
