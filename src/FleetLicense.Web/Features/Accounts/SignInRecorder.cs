using FleetLicense.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Accounts;

/// <summary>Records when a user finished signing in, for the Users page (never the password or the code).</summary>
public sealed class SignInRecorder(IDbContextFactory<FleetLicenseDbContext> databases, TimeProvider time)
{
    public async Task RecordAsync(Guid userId, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        // One statement that leaves the concurrency stamp alone: signing in must not make an Admin's edit of the same user fail.
        var now = time.GetUtcNow();
        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(set => set.SetProperty(u => u.LastSignInAt, now), cancellationToken);
    }
}
