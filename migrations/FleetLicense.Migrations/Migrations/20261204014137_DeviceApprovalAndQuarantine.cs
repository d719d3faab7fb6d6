using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class DeviceApprovalAndQuarantine : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "quarantined_at",
                table: "machines",
                type: "timestamptz",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "pending_enrollments",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    identity_key = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    hostname = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    smbios_uuid = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    serial_number = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    agent_version = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: true),
                    requester_address = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    enrollment_secret_id = table.Column<Guid>(type: "uuid", nullable: false),
                    nonce_hash = table.Column<byte[]>(type: "bytea", nullable: true),
                    state = table.Column<int>(type: "integer", nullable: false),
                    requested_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true),
                    decided_by = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_pending_enrollments", x => x.id);
                    table.ForeignKey(
                        name: "fk_pending_enrollments_enrollment_secrets_enrollment_secret_id",
                        column: x => x.enrollment_secret_id,
                        principalTable: "enrollment_secrets",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_pending_enrollments_machines_machine_id",
                        column: x => x.machine_id,
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_pending_enrollments_enrollment_secret_id",
                table: "pending_enrollments",
                column: "enrollment_secret_id");

            migrationBuilder.CreateIndex(
                name: "ix_pending_enrollments_machine_id",
                table: "pending_enrollments",
                column: "machine_id");

            migrationBuilder.CreateIndex(
                name: "ix_pending_enrollments_nonce_hash",
                table: "pending_enrollments",
                column: "nonce_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_pending_enrollments_state_expires_at",
                table: "pending_enrollments",
                columns: new[] { "state", "expires_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "pending_enrollments");

            migrationBuilder.DropColumn(
                name: "quarantined_at",
                table: "machines");
        }
    }
}
