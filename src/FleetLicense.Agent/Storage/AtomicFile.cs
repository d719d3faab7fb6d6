using System.Runtime.Versioning;
using System.Security.AccessControl;
using System.Security.Principal;

namespace FleetLicense.Agent.Storage;

/// <summary>
/// Writes files so that a crash leaves either the old or the new content, never a torn file, and so that
/// they are readable only by their owner from the moment they exist (no window where another user can open them).
/// </summary>
internal static class AtomicFile
{
    public const string TempSuffix = ".tmp";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Writes to a temporary file beside <paramref name="path"/>, flushes it to disk, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content, bool overwrite = true)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string temp = Path.Combine(directory, $".{Guid.NewGuid():N}{TempSuffix}");
        try
        {
            using (FileStream stream = CreateOwnerOnly(temp))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Creates a new file that only the current user can read and write.</summary>
    public static FileStream CreateOwnerOnly(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            // Applied by open(2) itself: the file never exists with wider permissions.
            options.UnixCreateMode = OwnerOnly;
        }

        return new FileStream(path, options);
    }

    /// <summary>
    /// Creates <paramref name="path"/> (and parents) when missing. Off Windows the directory is 0700; on Windows it
    /// is restricted to SYSTEM and Administrators, which the service and an elevated admin are.
    /// </summary>
    public static void EnsureDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            CreateRestrictedWindowsDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, OwnerOnlyDirectory);
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temporary file is ignored by every reader.
        }
    }

    [SupportedOSPlatform("windows")]
    private static void CreateRestrictedWindowsDirectory(string path)
    {
        var security = new DirectorySecurity();
        security.SetAccessRuleProtection(isProtected: true, preserveInheritance: false);
        foreach (WellKnownSidType sid in new[] { WellKnownSidType.LocalSystemSid, WellKnownSidType.BuiltinAdministratorsSid })
        {
            security.AddAccessRule(new FileSystemAccessRule(
                new SecurityIdentifier(sid, null),
                FileSystemRights.FullControl,
                InheritanceFlags.ContainerInherit | InheritanceFlags.ObjectInherit,
                PropagationFlags.None,
                AccessControlType.Allow));
        }

        security.CreateDirectory(path);
    }
}
