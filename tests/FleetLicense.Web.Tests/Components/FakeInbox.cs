using FleetLicense.Web.Features.Alerts;

namespace FleetLicense.Web.Tests.Components;

/// <summary>An in-memory bell inbox for component tests that are not about the database; it has one reader, whoever asks.</summary>
internal sealed class FakeInbox : INotificationInbox
{
    public List<NotificationView> Items { get; } = [];

    public Task<int> UnreadCountAsync(Guid userId, CancellationToken cancellationToken) => Task.FromResult(Items.Count(n => !n.Read));

    public Task<IReadOnlyList<NotificationView>> RecentAsync(Guid userId, int take, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<NotificationView>>([.. Items.OrderByDescending(n => n.CreatedAt).Take(take)]);

    public Task<bool> MarkReadAsync(Guid userId, long id, CancellationToken cancellationToken)
    {
        var index = Items.FindIndex(n => n.Id == id && !n.Read);
        if (index >= 0)
        {
            Items[index] = Items[index] with { Read = true };
        }

        return Task.FromResult(index >= 0);
    }

    public Task<int> MarkAllReadAsync(Guid userId, CancellationToken cancellationToken)
    {
        var count = Items.Count(n => !n.Read);
        for (var i = 0; i < Items.Count; i++)
        {
            Items[i] = Items[i] with { Read = true };
        }

        return Task.FromResult(count);
    }
}
