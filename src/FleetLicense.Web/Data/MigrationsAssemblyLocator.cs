using System.Reflection;
using System.Runtime.Loader;

namespace FleetLicense.Web.Data;

/// <summary>
/// Finds the migrations assembly. It references this one (it needs the DbContext), so this one cannot
/// reference it back: the migrations project copies its dll next to the app when it builds, and tests and
/// tools that reference it have it on their dependency list already.
/// </summary>
internal static class MigrationsAssemblyLocator
{
    public const string AssemblyName = "FleetLicense.Migrations";

    public static Assembly? Find()
    {
        var loaded = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == AssemblyName);
        if (loaded is not null)
        {
            return loaded;
        }

        try
        {
            return Assembly.Load(new AssemblyName(AssemblyName));
        }
        catch (FileNotFoundException)
        {
            var path = Path.Combine(AppContext.BaseDirectory, AssemblyName + ".dll");
            return File.Exists(path) ? AssemblyLoadContext.Default.LoadFromAssemblyPath(path) : null;
        }
    }
}
