using FleetLicense.Contracts;
using FleetLicense.Domain.Licensing;

namespace FleetLicense.Domain;

/// <summary>Everything known about one machine's licensing, normalised: the input of the rule engine.</summary>
public sealed record MachineLicensingState
{
    /// <summary>Machine identity and facts; members are null when the source did not carry them.</summary>
    public MachineFactsV1 Machine { get; init; } = new();

    /// <summary>Every licensed product (rows with a product key).</summary>
    public IReadOnlyList<LicensedProductV1> Products { get; init; } = [];

    /// <summary>
    /// The Windows base licence: the Windows application id, not an add-on. When several exist (a stale row
    /// after an edition change), the activated one wins, else the first. Office and ESU rows never count.
    /// </summary>
    public LicensedProductV1? WindowsProduct =>
        Products.Where(p => p.Kind == ProductKind.Windows).OrderBy(p => p.LicenseStatus == LicenseStatus.Licensed ? 0 : 1).FirstOrDefault();

    /// <summary>
    /// The installed edition: the registry EditionID when known, else the Windows row's <c>LicenseFamily</c>,
    /// else the edition in its name.
    /// </summary>
    public string? EditionId =>
        Machine.EditionId
        ?? WindowsProduct?.LicenseFamily
        ?? EditionCatalog.EditionFromProductName(WindowsProduct?.Name);

    /// <summary>Builds the state from a report.</summary>
    public static MachineLicensingState FromReport(LicenseReportV1 report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new MachineLicensingState { Machine = report.Machine, Products = report.Products };
    }
}
