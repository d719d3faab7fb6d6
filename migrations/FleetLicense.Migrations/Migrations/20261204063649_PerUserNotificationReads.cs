using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class PerUserNotificationReads : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "notification_reads",
                columns: table => new
                {
                    notification_id = table.Column<long>(type: "bigint", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    read_at = table.Column<DateTimeOffset>(type: "timestamptz", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_notification_reads", x => new { x.notification_id, x.user_id });
                    table.ForeignKey(
                        name: "fk_notification_reads_in_app_notifications_notification_id",
                        column: x => x.notification_id,
                        principalTable: "in_app_notifications",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_notification_reads_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_notification_reads_user_id",
                table: "notification_reads",
                column: "user_id");

            // The bell was shared before: what was read then stays read for everyone who could have read it.
            migrationBuilder.Sql("""
                INSERT INTO notification_reads (notification_id, user_id, read_at)
                SELECT n.id, u.id, n.read_at FROM in_app_notifications n CROSS JOIN users u WHERE n.read_at IS NOT NULL
                """);

            migrationBuilder.DropColumn(
                name: "read_at",
                table: "in_app_notifications");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "notification_reads");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "read_at",
                table: "in_app_notifications",
                type: "timestamptz",
                nullable: true);
        }
    }
}
