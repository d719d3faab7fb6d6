using FleetLicense.Domain.Rules;
using FleetLicense.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Alerts;

public sealed record NotificationView(long Id, string Title, string Body, string? Link, FindingSeverity Severity, DateTimeOffset CreatedAt, bool Read);

/// <summary>What the bell shows and does.</summary>
public interface INotificationInbox
{
    Task<int> UnreadCountAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<NotificationView>> RecentAsync(int take, CancellationToken cancellationToken);

    Task<bool> MarkReadAsync(long id, CancellationToken cancellationToken);

    Task<int> MarkAllReadAsync(CancellationToken cancellationToken);
}

public sealed class InAppNotificationStore(IDbContextFactory<FleetLicenseDbContext> dbFactory, TimeProvider time) : INotificationInbox
{
    public async Task<int> UnreadCountAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.InAppNotifications.CountAsync(n => n.ReadAt == null, cancellationToken);
    }

    public async Task<IReadOnlyList<NotificationView>> RecentAsync(int take, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.InAppNotifications.AsNoTracking().OrderByDescending(n => n.CreatedAt).ThenByDescending(n => n.Id).Take(Math.Clamp(take, 1, 200))
            .Select(n => new NotificationView(n.Id, n.Title, n.Body, n.Link, n.Severity, n.CreatedAt, n.ReadAt != null))
            .ToListAsync(cancellationToken);
    }

    public async Task<bool> MarkReadAsync(long id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.InAppNotifications.Where(n => n.Id == id && n.ReadAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.ReadAt, now), cancellationToken) > 0;
    }

    public async Task<int> MarkAllReadAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.InAppNotifications.Where(n => n.ReadAt == null).ExecuteUpdateAsync(s => s.SetProperty(n => n.ReadAt, now), cancellationToken);
    }
}
