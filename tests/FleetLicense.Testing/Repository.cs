namespace FleetLicense.Testing;

/// <summary>Files of the repository the tests run from (scripts, compose files, SQL), found above the test binaries.</summary>
public static class Repository
{
    private static readonly Lazy<string> RootDirectory = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "FleetLicense.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("FleetLicense.sln was not found above " + AppContext.BaseDirectory);
    });

    /// <summary>The folder holding FleetLicense.sln.</summary>
    public static string Root => RootDirectory.Value;

    /// <summary>A path below <see cref="Root"/>, given as its parts ("deploy", "nginx", "fleetlicense.conf").</summary>
    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);
}
