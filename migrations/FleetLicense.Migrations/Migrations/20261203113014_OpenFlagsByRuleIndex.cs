using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FleetLicense.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class OpenFlagsByRuleIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_flags_rule_machine_id",
                table: "flags",
                columns: new[] { "rule", "machine_id" },
                filter: "status IN ('Open', 'Acknowledged')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_flags_rule_machine_id",
                table: "flags");
        }
    }
}
