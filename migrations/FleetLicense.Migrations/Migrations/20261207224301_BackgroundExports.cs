using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class BackgroundExports : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "attempts",
                table: "exports",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<bool>(
                name: "byte_order_mark",
                table: "exports",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "cancelled_by",
                table: "exports",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "heartbeat_at",
                table: "exports",
                type: "timestamptz",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "node",
                table: "exports",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "requested_at",
                table: "exports",
                type: "timestamptz",
                nullable: false,
                defaultValue: new DateTimeOffset(new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)));

            migrationBuilder.AddColumn<long>(
                name: "rows_done",
                table: "exports",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "rows_expected",
                table: "exports",
                type: "bigint",
                nullable: true);

            // Exports made before this ran in the request: their request time is their start, and one still "running"
            // was cut off by the upgrade (it has no heartbeat, so no node would ever take it over).
            migrationBuilder.Sql("UPDATE exports SET requested_at = started_at");
            migrationBuilder.Sql("UPDATE exports SET state = 'Failed', finished_at = now(), error = 'Interrupted by the upgrade to background exports; run it again.' WHERE state = 'Running'");

            migrationBuilder.CreateIndex(
                name: "ix_exports_unfinished",
                table: "exports",
                column: "id",
                filter: "state IN ('Queued', 'Running')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_exports_unfinished",
                table: "exports");

            migrationBuilder.DropColumn(
                name: "attempts",
                table: "exports");

            migrationBuilder.DropColumn(
                name: "byte_order_mark",
                table: "exports");

            migrationBuilder.DropColumn(
                name: "cancelled_by",
                table: "exports");

            migrationBuilder.DropColumn(
                name: "heartbeat_at",
                table: "exports");

            migrationBuilder.DropColumn(
                name: "node",
                table: "exports");

            migrationBuilder.DropColumn(
                name: "requested_at",
                table: "exports");

            migrationBuilder.DropColumn(
                name: "rows_done",
                table: "exports");

            migrationBuilder.DropColumn(
                name: "rows_expected",
                table: "exports");
        }
    }
}
