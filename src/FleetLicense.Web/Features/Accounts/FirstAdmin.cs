using FleetLicense.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
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
        var services = scope.ServiceProvider;
        var options = services.GetRequiredService<IOptions<AccountsOptions>>().Value;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(FirstAdmin));
        await CreateWhenNoUserAsync(services, Path.GetFullPath(options.InitialAdminPasswordFile, app.Environment.ContentRootPath), options, logger);
        await EnsureInstallationTokenAsync(services, options, logger);
    }

    /// <summary>
    /// In one transaction under the user-change lock (<see cref="UserAdministration.ChangeLock"/>), with its audit row:
    /// two nodes starting on an empty database make one Admin (the other finds it and leaves the password file alone),
    /// and a crash cannot leave a user without the role, which would leave no Admin and no way to make one.
    /// </summary>
    private static async Task CreateWhenNoUserAsync(IServiceProvider services, string file, AccountsOptions options, ILogger logger)
    {
        var users = services.GetRequiredService<UserManager<FleetUser>>();
        var db = services.GetRequiredService<FleetLicenseDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({UserAdministration.ChangeLock})");
        if (await users.Users.AnyAsync())
        {
            return;
        }

        var generated = string.IsNullOrEmpty(options.InitialAdminPassword);
        var password = generated ? OneTimePassword.Generate() : options.InitialAdminPassword!;
        var admin = new FleetUser
        {
            UserName = options.InitialAdminUserName,
            MustChangePassword = true,
            CreatedAt = services.GetRequiredService<TimeProvider>().GetUtcNow(),
        };
        // Written before the Admin exists: an Admin whose password nobody can read would lock everyone out.
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
            throw new InvalidOperationException($"{AccountsOptions.SectionName}:{nameof(AccountsOptions.InitialAdminPassword)} cannot be used: "
                + string.Join(" ", created.Errors.Select(e => e.Description)));
        }

        var role = await users.AddToRoleAsync(admin, FleetRoles.Admin);
        if (!role.Succeeded)
        {
            throw new InvalidOperationException("The first Admin could not be given the Admin role: " + string.Join(" ", role.Errors.Select(e => e.Description)));
        }

        await services.GetRequiredService<IAccountAudit>().AppendAsync(db, Caller.System, AccountEvents.UserCreated, admin.UserName, null,
            new { Role = FleetRoles.Admin, FirstAdmin = true, PasswordFrom = generated ? "generated file" : "configuration" }, CancellationToken.None);
        await transaction.CommitAsync();
        if (generated)
        {
            LogCreatedWithFile(logger, admin.UserName, file);
        }
        else
        {
            LogCreated(logger, admin.UserName);
        }
    }

    /// <summary>
    /// The configured installation token (<see cref="AccountsOptions.BootstrapApiTokenHash"/>) as the first Admin's API
    /// token "installation", once: a token with that hash that exists already, revoked or not, is left as it is.
    /// </summary>
    private static async Task EnsureInstallationTokenAsync(IServiceProvider services, AccountsOptions options, ILogger logger)
    {
        if (string.IsNullOrEmpty(options.BootstrapApiTokenHash))
        {
            return;
        }

        var hash = Convert.FromHexString(options.BootstrapApiTokenHash);
        var db = services.GetRequiredService<FleetLicenseDbContext>();
        if (await db.ApiTokens.AnyAsync(t => t.TokenHash == hash))
        {
            return;
        }

        var admins = await services.GetRequiredService<UserManager<FleetUser>>().GetUsersInRoleAsync(FleetRoles.Admin);
        var owner = admins.Where(a => !a.IsDisabled).OrderBy(a => a.UserName != options.InitialAdminUserName).ThenBy(a => a.CreatedAt).FirstOrDefault();
        if (owner is null)
        {
            LogNoAdminForToken(logger);
            return;
        }

        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var token = new ApiToken
        {
            Id = Guid.CreateVersion7(now),
            OwnerId = owner.Id,
            Name = "installation",
            // Only the hash is known here; the prefix is all a list can show of it.
            Hint = ApiTokens.Prefix,
            TokenHash = hash,
            Scope = FleetRoles.Admin,
            CreatedAt = now,
            ExpiresAt = now + ApiTokens.MaxLifetime,
        };
        await using var transaction = await db.Database.BeginTransactionAsync();
        db.ApiTokens.Add(token);
        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateException ex) when (ex.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            // Another node starting at the same time stored it.
            return;
        }

        await ApiTokens.AppendIssuedAsync(db, services.GetRequiredService<IAccountAudit>(), Caller.System, token, owner.UserName!, CancellationToken.None);
        await transaction.CommitAsync();
        LogInstallationToken(logger, owner.UserName!, token.ExpiresAt);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "The installation token is now the API token 'installation' of the Admin '{UserName}', expiring {ExpiresAt:u}.")]
    private static partial void LogInstallationToken(ILogger logger, string userName, DateTimeOffset expiresAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Accounts:BootstrapApiTokenHash is set but no enabled Admin exists to hold the installation token; it is not stored.")]
    private static partial void LogNoAdminForToken(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No user existed: created the Admin '{UserName}' with the configured one-time password; the first sign-in must change it.")]
    private static partial void LogCreated(ILogger logger, string userName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No user existed: created the Admin '{UserName}'; the one-time password is in {File} (readable by this user only). The first sign-in must change it.")]
    private static partial void LogCreatedWithFile(ILogger logger, string userName, string file);
}
