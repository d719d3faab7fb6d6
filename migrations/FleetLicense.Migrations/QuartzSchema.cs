using Microsoft.EntityFrameworkCore.Migrations;

namespace FleetLicense.Migrations;

/// <summary>
/// The Quartz.NET job-store schema, as EF migrations own it. The script is the PostgreSQL schema shipped
/// inside Quartz 4.7.3 (Apache-2.0), kept verbatim so a later Quartz upgrade is a new script + migration,
/// never an edit of an applied one. At start Quartz validates the schema and refuses to run on a mismatch.
/// </summary>
internal static class QuartzSchema
{
    public const string TablePrefix = "qrtz_";

    public static void Create(MigrationBuilder migrationBuilder, string scriptName)
    {
        foreach (var statement in Statements(scriptName))
        {
            migrationBuilder.Sql(statement);
        }
    }

    public static void Drop(MigrationBuilder migrationBuilder)
    {
        // Children before parents; CASCADE covers the trigger sub-tables.
        string[] tables =
        [
            "fired_triggers", "paused_trigger_grps", "paused_job_grps", "scheduler_state", "locks",
            "simple_triggers", "cron_triggers", "simprop_triggers", "blob_triggers", "triggers", "job_details", "calendars",
            "execution_history", "misfire_history", "job_status",
        ];
        foreach (var table in tables)
        {
            migrationBuilder.Sql($"DROP TABLE IF EXISTS {TablePrefix}{table} CASCADE;");
        }
    }

    private static List<string> Statements(string scriptName)
    {
        using var stream = typeof(QuartzSchema).Assembly.GetManifestResourceStream($"FleetLicense.Migrations.Sql.{scriptName}")
            ?? throw new InvalidOperationException($"Embedded script {scriptName} is missing from the migrations assembly.");
        using var reader = new StreamReader(stream);
        // Statements are separated by a line reading exactly '--;;'; {0} is the table prefix, {1} the same without schema.
        var script = reader.ReadToEnd().Replace("{0}", TablePrefix, StringComparison.Ordinal).Replace("{1}", TablePrefix, StringComparison.Ordinal);
        return script.Split(["\r\n--;;", "\n--;;"], StringSplitOptions.None)
            .Select(s => string.Join('\n', s.Split('\n').Where(line => !line.TrimStart().StartsWith("--", StringComparison.Ordinal))).Trim())
            .Where(s => s.Length > 0)
            .ToList();
    }
}
