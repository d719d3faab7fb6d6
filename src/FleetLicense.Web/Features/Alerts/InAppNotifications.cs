using FleetLicense.Domain.Rules;
using FleetLicense.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Alerts;

public sealed record NotificationView(long Id, string Title, string Body, string? Link, FindingSeverity Severity, DateTimeOffset CreatedAt, bool Read);

/// <summary>What the bell shows and does. Notifications are the fleet's; whether one was read is each user's own.</summary>
public interface INotificationInbox
{
    Task<int> UnreadCountAsync(Guid userId, CancellationToken cancellationToken);

    Task<IReadOnlyList<NotificationView>> RecentAsync(Guid userId, int take, CancellationToken cancellationToken);

    /// <summary>False when there is no such notification; reading one twice is not an error.</summary>
    Task<bool> MarkReadAsync(Guid userId, long id, CancellationToken cancellationToken);

    Task<int> MarkAllReadAsync(Guid userId, CancellationToken cancellationToken);
}

public sealed class InAppNotificationStore(IDbContextFactory<FleetLicenseDbContext> dbFactory, TimeProvider time) : INotificationInbox
{
    public async Task<int> UnreadCountAsync(Guid userId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.InAppNotifications.CountAsync(n => !db.NotificationReads.Any(r => r.NotificationId == n.Id && r.UserId == userId), cancellationToken);
    }

    public async Task<IReadOnlyList<NotificationView>> RecentAsync(Guid userId, int take, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.InAppNotifications.AsNoTracking().OrderByDescending(n => n.CreatedAt).ThenByDescending(n => n.Id).Take(Math.Clamp(take, 1, 200))
            .Select(n => new NotificationView(n.Id, n.Title, n.Body, n.Link, n.Severity, n.CreatedAt,
                db.NotificationReads.Any(r => r.NotificationId == n.Id && r.UserId == userId)))
            .ToListAsync(cancellationToken);
    }

    public async Task<bool> MarkReadAsync(Guid userId, long id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.InAppNotifications.AnyAsync(n => n.Id == id, cancellationToken))
        {
            return false;
        }

        await MarkAsync(db, userId, id, cancellationToken);
        return true;
    }

    public async Task<int> MarkAllReadAsync(Guid userId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await MarkAsync(db, userId, null, cancellationToken);
    }

    /// <summary>
    /// One statement, so two tabs (or two nodes) marking at once neither fail on the key nor count a notification twice.
    /// A notification deleted meanwhile is simply not marked (its reads go with it).
    /// </summary>
    private Task<int> MarkAsync(FleetLicenseDbContext db, Guid userId, long? id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO notification_reads (notification_id, user_id, read_at)
            SELECT n.id, {userId}, {now} FROM in_app_notifications n
            WHERE (CAST({id} AS bigint) IS NULL OR n.id = {id}) AND EXISTS (SELECT 1 FROM users u WHERE u.id = {userId})
            ON CONFLICT DO NOTHING
            """, cancellationToken);
    }
}
