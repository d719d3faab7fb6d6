using System.Linq.Expressions;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Machines;

namespace FleetLicense.Web.Features.Flags;

/// <summary>The machine pages' view of flags (<see cref="IMachineFindings"/>), answered from the flags table.</summary>
public sealed class FlagFindings(FlagService flags) : IMachineFindings
{
    /// <summary>Still to be dealt with: what the grid counts per machine and filters by.</summary>
    private static readonly Expression<Func<Flag, bool>> OpenOrAcknowledged = f => f.Status == FlagStatus.Open || f.Status == FlagStatus.Acknowledged;

    public IQueryable<Guid> FlaggedMachineIds(FleetLicenseDbContext db, string? rule = null)
    {
        var flagged = db.Flags.Where(OpenOrAcknowledged);
        return (rule is null ? flagged : flagged.Where(f => f.Rule == rule)).Select(f => f.MachineId);
    }

    public IQueryable<string> FlaggedRules(FleetLicenseDbContext db) => db.Flags.Where(OpenOrAcknowledged).Select(f => f.Rule);

    public async Task<IReadOnlyList<MachineFinding>> OfMachineAsync(Guid machineId, CancellationToken cancellationToken)
    {
        var page = await flags.QueryAsync(new FlagQuery([FlagStatus.Open, FlagStatus.Acknowledged, FlagStatus.Waived], MachineId: machineId, Take: 100), cancellationToken);
        return [.. page.Items.Select(f => new MachineFinding(f.Rule, f.Severity, f.Title, f.Message, f.Advice, f.Status.ToString()))];
    }
}
