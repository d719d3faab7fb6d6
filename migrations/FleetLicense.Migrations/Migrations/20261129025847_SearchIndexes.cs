using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class SearchIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameIndex(
                name: "ix_machines_serial_number",
                table: "machines",
                newName: "ix_machines_serial_number_trgm");

            migrationBuilder.CreateIndex(
                name: "ix_machines_hostname_trgm",
                table: "machines",
                column: "hostname")
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "gin_trgm_ops" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_machines_hostname_trgm",
                table: "machines");

            migrationBuilder.RenameIndex(
                name: "ix_machines_serial_number_trgm",
                table: "machines",
                newName: "ix_machines_serial_number");
        }
    }
}
