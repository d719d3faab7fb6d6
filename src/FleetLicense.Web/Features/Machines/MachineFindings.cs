using FleetLicense.Domain.Rules;
using FleetLicense.Web.Data;

namespace FleetLicense.Web.Features.Machines;

/// <summary>A finding on one machine as the machine page shows it; <paramref name="Status"/> is the flag's status by name.</summary>
public sealed record MachineFinding(string Rule, FindingSeverity Severity, string Title, string Message, string Advice, string Status);

/// <summary>
/// The findings the machine pages show, in the shape they need. Flags owns findings and implements this (registered by
/// FlagsFeature); Machines asks through it, so the Flags feature can use machines without the two features
/// depending on each other.
/// </summary>
public interface IMachineFindings
{
    /// <summary>
    /// The machine id of every open or acknowledged flag (of <paramref name="rule"/>, when given), once per flag: a
    /// query over <paramref name="db"/> that the grid composes into its own, so counting and filtering stay one statement.
    /// </summary>
    IQueryable<Guid> FlaggedMachineIds(FleetLicenseDbContext db, string? rule = null);

    /// <summary>The rule of every open or acknowledged flag, once per flag: the grid's rule picker orders them by how common they are.</summary>
    IQueryable<string> FlaggedRules(FleetLicenseDbContext db);

    /// <summary>The machine's findings that are not resolved (open, acknowledged or waived), most severe first.</summary>
    Task<IReadOnlyList<MachineFinding>> OfMachineAsync(Guid machineId, CancellationToken cancellationToken);
}
