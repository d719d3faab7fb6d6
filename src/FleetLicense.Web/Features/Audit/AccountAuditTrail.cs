using FleetLicense.Web.Features.Accounts;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Audit;

/// <summary>Accounts' events (<see cref="IAccountAudit"/>) into the trail.</summary>
internal sealed class AccountAuditTrail(AuditTrail trail) : IAccountAudit
{
    public Task RecordAsync(Caller caller, string action, string? target, object? after, CancellationToken cancellationToken) =>
        trail.RecordAsync(caller, new AuditRecord(action, target, After: after), cancellationToken);

    public Task AppendAsync(DbContext db, Caller caller, string action, string? target, object? before, object? after, CancellationToken cancellationToken) =>
        trail.AppendAsync(db, caller, [new AuditRecord(action, target, before, after)], cancellationToken);
}
