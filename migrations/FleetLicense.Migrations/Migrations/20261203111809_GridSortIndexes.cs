using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class GridSortIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_machines_manufacturer_model",
                table: "machines");

            migrationBuilder.DropIndex(
                name: "ix_machine_products_kms_host",
                table: "machine_products");

            migrationBuilder.CreateIndex(
                name: "ix_machines_manufacturer_model_hostname",
                table: "machines",
                columns: new[] { "manufacturer", "model", "hostname" });

            migrationBuilder.CreateIndex(
                name: "ix_machine_products_kms_host_machine_id",
                table: "machine_products",
                columns: new[] { "kms_host", "machine_id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_machines_manufacturer_model_hostname",
                table: "machines");

            migrationBuilder.DropIndex(
                name: "ix_machine_products_kms_host_machine_id",
                table: "machine_products");

            migrationBuilder.CreateIndex(
                name: "ix_machines_manufacturer_model",
                table: "machines",
                columns: new[] { "manufacturer", "model" });

            migrationBuilder.CreateIndex(
                name: "ix_machine_products_kms_host",
                table: "machine_products",
                column: "kms_host");
        }
    }
}
