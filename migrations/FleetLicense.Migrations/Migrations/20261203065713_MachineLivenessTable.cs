using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class MachineLivenessTable : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "machine_liveness",
                columns: table => new
                {
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    last_seen_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true),
                    last_collected_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true),
                    last_report_id = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_machine_liveness", x => x.machine_id);
                    table.ForeignKey(
                        name: "fk_machine_liveness_machines_machine_id",
                        column: x => x.machine_id,
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            // Every machine gets its row, so joins on the liveness never lose a machine.
            migrationBuilder.Sql("""
                INSERT INTO machine_liveness (machine_id, last_seen_at, last_collected_at, last_report_id)
                SELECT id, last_seen_at, last_collected_at, last_report_id FROM machines
                """);

            migrationBuilder.CreateIndex(
                name: "ix_machine_liveness_last_seen_at",
                table: "machine_liveness",
                column: "last_seen_at");

            migrationBuilder.DropColumn(
                name: "last_collected_at",
                table: "machines");

            migrationBuilder.DropColumn(
                name: "last_report_id",
                table: "machines");

            migrationBuilder.DropColumn(
                name: "last_seen_at",
                table: "machines");

            migrationBuilder.AlterTable(
                name: "machines")
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 70);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterTable(
                name: "machines")
                .Annotation("Npgsql:StorageParameter:fillfactor", 70);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "last_collected_at",
                table: "machines",
                type: "timestamptz",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "last_report_id",
                table: "machines",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "last_seen_at",
                table: "machines",
                type: "timestamptz",
                nullable: true);

            migrationBuilder.Sql("""
                UPDATE machines m SET last_seen_at = l.last_seen_at, last_collected_at = l.last_collected_at, last_report_id = l.last_report_id
                FROM machine_liveness l WHERE l.machine_id = m.id
                """);

            migrationBuilder.DropTable(
                name: "machine_liveness");
        }
    }
}
