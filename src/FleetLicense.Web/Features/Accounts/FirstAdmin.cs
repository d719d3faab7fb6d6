using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>
/// With no user at all (a new installation), creates the one Admin who can create the others, with a one-time
/// password the first sign-in must change.
/// </summary>
public static partial class FirstAdmin
{
    public static async Task EnsureFirstAdminAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUser>>();
        var options = scope.ServiceProvider.GetRequiredService<IOptions<AccountsOptions>>().Value;
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(FirstAdmin));
        if (users.Users.Any())
        {
            return;
        }

        var generated = string.IsNullOrEmpty(options.InitialAdminPassword);
        var password = generated ? OneTimePassword.Generate() : options.InitialAdminPassword!;
        var admin = new FleetUser
        {
            UserName = options.InitialAdminUserName,
            MustChangePassword = true,
            CreatedAt = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow(),
        };
        // Written before the Admin exists: an Admin whose password nobody can read would lock everyone out.
        var file = Path.GetFullPath(options.InitialAdminPasswordFile, app.Environment.ContentRootPath);
        if (generated)
        {
            try
            {
                await WriteOwnerOnlyAsync(file, password);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"No user exists yet and the first Admin's one-time password cannot be written to {file} ({ex.Message}). "
                    + $"Set {AccountsOptions.SectionName}:{nameof(AccountsOptions.InitialAdminPassword)}, or {nameof(AccountsOptions.InitialAdminPasswordFile)} to a writable path.", ex);
            }
        }

        var created = await users.CreateAsync(admin, password);
        if (!created.Succeeded)
        {
            // Two nodes starting on an empty database: the other one made it (the user name is unique).
            if (created.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.DuplicateUserName)))
            {
                if (generated)
                {
                    File.Delete(file);
                }

                return;
            }

            throw new InvalidOperationException($"{AccountsOptions.SectionName}:{nameof(AccountsOptions.InitialAdminPassword)} cannot be used: "
                + string.Join(" ", created.Errors.Select(e => e.Description)));
        }

        await users.AddToRoleAsync(admin, FleetRoles.Admin);
        if (generated)
        {
            LogCreatedWithFile(logger, admin.UserName, file);
        }
        else
        {
            LogCreated(logger, admin.UserName);
        }
    }

    private static async Task WriteOwnerOnlyAsync(string file, string password)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(file, options);
        await using var writer = new StreamWriter(stream);
        await writer.WriteLineAsync(password);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No user existed: created the Admin '{UserName}' with the configured one-time password; the first sign-in must change it.")]
    private static partial void LogCreated(ILogger logger, string userName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No user existed: created the Admin '{UserName}'; the one-time password is in {File} (readable by this user only). The first sign-in must change it.")]
    private static partial void LogCreatedWithFile(ILogger logger, string userName, string file);
}
