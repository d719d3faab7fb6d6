using System.ComponentModel.DataAnnotations;

namespace FleetLicense.Web.Data;

public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary>The connection string name under ConnectionStrings.</summary>
    public const string ConnectionStringName = "FleetLicense";

    /// <summary>Apply pending EF Core migrations when the app starts.</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>Where Development keeps its embedded PostgreSQL cluster when no connection string is set.</summary>
    [Required]
    public string EmbeddedDataDirectory { get; set; } = ".data/pg";

    /// <summary>Folder with initdb/pg_ctl; found automatically when empty.</summary>
    public string? PostgresBinDirectory { get; set; }
}
