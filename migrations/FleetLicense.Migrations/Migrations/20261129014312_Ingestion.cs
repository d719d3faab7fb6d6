using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class Ingestion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "enrollment_secrets",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    secret_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    hint = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true),
                    max_uses = table.Column<int>(type: "integer", nullable: true),
                    uses = table.Column<int>(type: "integer", nullable: false),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_enrollment_secrets", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "machines",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    identity_key = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    hostname = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    smbios_uuid = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    serial_number = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    token_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    token_issued_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    enrolled_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    agent_version = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: true),
                    last_seen_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true),
                    last_collected_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true),
                    last_report_id = table.Column<Guid>(type: "uuid", nullable: true),
                    manufacturer = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    pc_system_type = table.Column<int>(type: "integer", nullable: true),
                    join_type = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    domain_name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    os_name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    edition_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    os_build = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    firmware_edition = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    firmware_partial_key = table.Column<string>(type: "character varying(5)", maxLength: 5, nullable: true),
                    firmware_key_fingerprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    windows_status = table.Column<int>(type: "integer", nullable: true),
                    windows_channel = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    windows_partial_key = table.Column<string>(type: "character varying(5)", maxLength: 5, nullable: true),
                    windows_grace_minutes = table.Column<long>(type: "bigint", nullable: true),
                    kms_host = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    facts = table.Column<string>(type: "jsonb", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_machines", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "organisation_secrets",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    fingerprint_secret = table.Column<byte[]>(type: "bytea", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_organisation_secrets", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "policies",
                columns: table => new
                {
                    version = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    created_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    comment = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    document = table.Column<string>(type: "jsonb", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_policies", x => x.version);
                });

            migrationBuilder.CreateTable(
                name: "projection_queue",
                columns: table => new
                {
                    seq = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    report_id = table.Column<Guid>(type: "uuid", nullable: false),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_projection_queue", x => x.seq);
                });

            migrationBuilder.CreateTable(
                name: "report_receipts",
                columns: table => new
                {
                    report_id = table.Column<Guid>(type: "uuid", nullable: false),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_report_receipts", x => x.report_id);
                });

            migrationBuilder.CreateTable(
                name: "flags",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    rule = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    subject = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    severity = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    title = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    message = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    advice = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    product = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    evidence = table.Column<string>(type: "json", nullable: false),
                    status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    first_seen_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    last_seen_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    status_changed_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    status_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    status_reason = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    waived_until = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_flags", x => x.id);
                    table.ForeignKey(
                        name: "fk_flags_machines_machine_id",
                        column: x => x.machine_id,
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "machine_history",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    product_key = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    product_name = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    field = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    old_value = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    new_value = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    report_id = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_machine_history", x => x.id);
                    table.ForeignKey(
                        name: "fk_machine_history_machines_machine_id",
                        column: x => x.machine_id,
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "machine_products",
                columns: table => new
                {
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    product_key = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    name = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    kind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    channel = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    partial_key = table.Column<string>(type: "character varying(5)", maxLength: 5, nullable: true),
                    key_fingerprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    license_status = table.Column<int>(type: "integer", nullable: false),
                    grace_minutes = table.Column<long>(type: "bigint", nullable: true),
                    kms_host = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    collected_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    details = table.Column<string>(type: "json", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_machine_products", x => new { x.machine_id, x.product_key });
                    table.ForeignKey(
                        name: "fk_machine_products_machines_machine_id",
                        column: x => x.machine_id,
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "flag_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    flag_id = table.Column<Guid>(type: "uuid", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    from = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    to = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    actor = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    reason = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    until = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_flag_events", x => x.id);
                    table.ForeignKey(
                        name: "fk_flag_events_flags_flag_id",
                        column: x => x.flag_id,
                        principalTable: "flags",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_enrollment_secrets_secret_hash",
                table: "enrollment_secrets",
                column: "secret_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_flag_events_flag_id_at",
                table: "flag_events",
                columns: new[] { "flag_id", "at" });

            migrationBuilder.CreateIndex(
                name: "ix_flags_machine_id_rule_subject",
                table: "flags",
                columns: new[] { "machine_id", "rule", "subject" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_flags_status_severity_rule",
                table: "flags",
                columns: new[] { "status", "severity", "rule" });

            migrationBuilder.CreateIndex(
                name: "ix_machine_history_machine_id_at",
                table: "machine_history",
                columns: new[] { "machine_id", "at" });

            migrationBuilder.CreateIndex(
                name: "ix_machine_products_key_fingerprint",
                table: "machine_products",
                column: "key_fingerprint");

            migrationBuilder.CreateIndex(
                name: "ix_machine_products_kms_host",
                table: "machine_products",
                column: "kms_host");

            migrationBuilder.CreateIndex(
                name: "ix_machines_hostname",
                table: "machines",
                column: "hostname");

            migrationBuilder.CreateIndex(
                name: "ix_machines_identity_key",
                table: "machines",
                column: "identity_key",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_machines_last_seen_at",
                table: "machines",
                column: "last_seen_at");

            migrationBuilder.CreateIndex(
                name: "ix_machines_token_hash",
                table: "machines",
                column: "token_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_report_receipts_received_at",
                table: "report_receipts",
                column: "received_at");

            // Raw reports exactly as received, partitioned by day so retention drops whole partitions.
            // Not in the EF model: only SQL writes and reads it, and EF cannot describe a partitioned table.
            migrationBuilder.Sql("""
                CREATE TABLE raw_reports (
                    report_id uuid NOT NULL,
                    machine_id uuid NOT NULL,
                    received_at timestamptz NOT NULL,
                    collected_at timestamptz NOT NULL,
                    body jsonb NOT NULL
                ) PARTITION BY RANGE (received_at);
                CREATE INDEX ix_raw_reports_machine_id_received_at ON raw_reports (machine_id, received_at);
                CREATE TABLE raw_reports_default PARTITION OF raw_reports DEFAULT;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE IF EXISTS raw_reports CASCADE;");

            migrationBuilder.DropTable(
                name: "enrollment_secrets");

            migrationBuilder.DropTable(
                name: "flag_events");

            migrationBuilder.DropTable(
                name: "machine_history");

            migrationBuilder.DropTable(
                name: "machine_products");

            migrationBuilder.DropTable(
                name: "organisation_secrets");

            migrationBuilder.DropTable(
                name: "policies");

            migrationBuilder.DropTable(
                name: "projection_queue");

            migrationBuilder.DropTable(
                name: "report_receipts");

            migrationBuilder.DropTable(
                name: "flags");

            migrationBuilder.DropTable(
                name: "machines");
        }
    }
}
