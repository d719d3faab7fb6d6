using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class TypedHistory : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameColumn(
                name: "old_value",
                table: "machine_history",
                newName: "legacy_old_value");

            migrationBuilder.RenameColumn(
                name: "new_value",
                table: "machine_history",
                newName: "legacy_new_value");

            migrationBuilder.AddColumn<string>(
                name: "new_channel",
                table: "machine_history",
                type: "character varying(20)",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "new_edition",
                table: "machine_history",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "new_fingerprint_prefix",
                table: "machine_history",
                type: "character varying(8)",
                maxLength: 8,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "new_kms_host",
                table: "machine_history",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "new_partial_key",
                table: "machine_history",
                type: "character varying(5)",
                maxLength: 5,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "new_status",
                table: "machine_history",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "old_channel",
                table: "machine_history",
                type: "character varying(20)",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "old_edition",
                table: "machine_history",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "old_fingerprint_prefix",
                table: "machine_history",
                type: "character varying(8)",
                maxLength: 8,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "old_kms_host",
                table: "machine_history",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "old_partial_key",
                table: "machine_history",
                type: "character varying(5)",
                maxLength: 5,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "old_status",
                table: "machine_history",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "product_kind",
                table: "machine_history",
                type: "character varying(20)",
                maxLength: 20,
                nullable: true);

            // Reads the display text back into the typed columns in one rewrite of the table (docs/decisions/0005).
            migrationBuilder.Sql(TypedHistorySql.Up);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(TypedHistorySql.Down);

            migrationBuilder.DropColumn(
                name: "new_channel",
                table: "machine_history");

            migrationBuilder.DropColumn(
                name: "new_edition",
                table: "machine_history");

            migrationBuilder.DropColumn(
                name: "new_fingerprint_prefix",
                table: "machine_history");

            migrationBuilder.DropColumn(
                name: "new_kms_host",
                table: "machine_history");

            migrationBuilder.DropColumn(
                name: "new_partial_key",
                table: "machine_history");

            migrationBuilder.DropColumn(
                name: "new_status",
                table: "machine_history");

            migrationBuilder.DropColumn(
                name: "old_channel",
                table: "machine_history");

            migrationBuilder.DropColumn(
                name: "old_edition",
                table: "machine_history");

            migrationBuilder.DropColumn(
                name: "old_fingerprint_prefix",
                table: "machine_history");

            migrationBuilder.DropColumn(
                name: "old_kms_host",
                table: "machine_history");

            migrationBuilder.DropColumn(
                name: "old_partial_key",
                table: "machine_history");

            migrationBuilder.DropColumn(
                name: "old_status",
                table: "machine_history");

            migrationBuilder.DropColumn(
                name: "product_kind",
                table: "machine_history");

            migrationBuilder.RenameColumn(
                name: "legacy_old_value",
                table: "machine_history",
                newName: "old_value");

            migrationBuilder.RenameColumn(
                name: "legacy_new_value",
                table: "machine_history",
                newName: "new_value");
        }
    }
}
