using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class Alerts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "alert_settings",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    document = table.Column<string>(type: "jsonb", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    updated_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_alert_settings", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "alert_states",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    rule = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: true),
                    subject = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    severity = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    title = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    detail = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    link = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    condition_since = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    last_observed_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    first_notified_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true),
                    last_notified_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true),
                    notify_count = table.Column<int>(type: "integer", nullable: false),
                    episode = table.Column<int>(type: "integer", nullable: false),
                    resolved_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true),
                    resolution = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_alert_states", x => x.id);
                    table.ForeignKey(
                        name: "fk_alert_states_machines_machine_id",
                        column: x => x.machine_id,
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "fleet_snapshots",
                columns: table => new
                {
                    day = table.Column<DateOnly>(type: "date", nullable: false),
                    dimension = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    value = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    machines = table.Column<int>(type: "integer", nullable: false),
                    taken_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_fleet_snapshots", x => new { x.day, x.dimension, x.value });
                });

            migrationBuilder.CreateTable(
                name: "job_runs",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    job = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    scheduled_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true),
                    started_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    node = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    outcome = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    detail = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_job_runs", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "stale_agents",
                columns: table => new
                {
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    last_seen_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true),
                    marked_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_stale_agents", x => x.machine_id);
                    table.ForeignKey(
                        name: "fk_stale_agents_machines_machine_id",
                        column: x => x.machine_id,
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "alert_messages",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    dedup_key = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: false),
                    kind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    rule = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: true),
                    alert_state_id = table.Column<long>(type: "bigint", nullable: true),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: true),
                    severity = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    subject = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    detail = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    text_body = table.Column<string>(type: "text", nullable: false),
                    html_body = table.Column<string>(type: "text", nullable: false),
                    payload = table.Column<string>(type: "jsonb", nullable: false),
                    link = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_alert_messages", x => x.id);
                    table.ForeignKey(
                        name: "fk_alert_messages_alert_states_alert_state_id",
                        column: x => x.alert_state_id,
                        principalTable: "alert_states",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "alert_deliveries",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    message_id = table.Column<long>(type: "bigint", nullable: false),
                    channel = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    recipient = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    last_error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    sent_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true),
                    digest_message_id = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_alert_deliveries", x => x.id);
                    table.ForeignKey(
                        name: "fk_alert_deliveries_alert_messages_digest_message_id",
                        column: x => x.digest_message_id,
                        principalTable: "alert_messages",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "fk_alert_deliveries_alert_messages_message_id",
                        column: x => x.message_id,
                        principalTable: "alert_messages",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "in_app_notifications",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    message_id = table.Column<long>(type: "bigint", nullable: true),
                    title = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    body = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    link = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    severity = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false),
                    read_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_in_app_notifications", x => x.id);
                    table.ForeignKey(
                        name: "fk_in_app_notifications_alert_messages_message_id",
                        column: x => x.message_id,
                        principalTable: "alert_messages",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_alert_deliveries_created_at",
                table: "alert_deliveries",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "ix_alert_deliveries_digest_message_id",
                table: "alert_deliveries",
                column: "digest_message_id");

            migrationBuilder.CreateIndex(
                name: "ix_alert_deliveries_message_id_channel_recipient",
                table: "alert_deliveries",
                columns: new[] { "message_id", "channel", "recipient" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_alert_deliveries_status_next_attempt_at",
                table: "alert_deliveries",
                columns: new[] { "status", "next_attempt_at" });

            migrationBuilder.CreateIndex(
                name: "ix_alert_messages_alert_state_id",
                table: "alert_messages",
                column: "alert_state_id");

            migrationBuilder.CreateIndex(
                name: "ix_alert_messages_created_at",
                table: "alert_messages",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "ix_alert_messages_dedup_key",
                table: "alert_messages",
                column: "dedup_key",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_alert_states_machine_id",
                table: "alert_states",
                column: "machine_id");

            migrationBuilder.CreateIndex(
                name: "ix_alert_states_rule_machine_id_subject",
                table: "alert_states",
                columns: new[] { "rule", "machine_id", "subject" },
                unique: true)
                .Annotation("Npgsql:NullsDistinct", false);

            migrationBuilder.CreateIndex(
                name: "ix_alert_states_status",
                table: "alert_states",
                column: "status");

            migrationBuilder.CreateIndex(
                name: "ix_in_app_notifications_created_at",
                table: "in_app_notifications",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "ix_in_app_notifications_message_id",
                table: "in_app_notifications",
                column: "message_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_job_runs_job_started_at",
                table: "job_runs",
                columns: new[] { "job", "started_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "alert_deliveries");

            migrationBuilder.DropTable(
                name: "alert_settings");

            migrationBuilder.DropTable(
                name: "fleet_snapshots");

            migrationBuilder.DropTable(
                name: "in_app_notifications");

            migrationBuilder.DropTable(
                name: "job_runs");

            migrationBuilder.DropTable(
                name: "stale_agents");

            migrationBuilder.DropTable(
                name: "alert_messages");

            migrationBuilder.DropTable(
                name: "alert_states");
        }
    }
}
