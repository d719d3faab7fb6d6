using System.Text.RegularExpressions;

namespace FleetLicense.Domain.Licensing;

/// <summary>Who an edition is sold to, as far as volume licensing is concerned.</summary>
public enum EditionCategory
{
    /// <summary>Not recognised.</summary>
    Unknown = 0,

    /// <summary>Home family: no volume licensing exists for it.</summary>
    Consumer,

    /// <summary>Pro, Education, Enterprise and their variants: may take volume keys.</summary>
    Business,

    /// <summary>Windows Server editions.</summary>
    Server,
}

/// <summary>Maps Windows EditionIDs to <see cref="EditionCategory"/> (DOMAIN.md §7).</summary>
public static partial class EditionCatalog
{
    private static readonly HashSet<string> Business = new(StringComparer.OrdinalIgnoreCase)
    {
        "Professional", "ProfessionalN", "ProfessionalWorkstation", "ProfessionalWorkstationN",
        "ProfessionalEducation", "ProfessionalEducationN", "Education", "EducationN",
        "Enterprise", "EnterpriseN", "EnterpriseG", "EnterpriseGN", "EnterpriseS", "EnterpriseSN",
        "IoTEnterprise", "IoTEnterpriseS", "IoTEnterpriseK", "ServerRdsh", "CloudEdition", "CloudEditionN",
        "PPIPro", "ProfessionalCountrySpecific", "ProfessionalSingleLanguage", "EnterpriseEval", "EnterpriseNEval",
        "EnterpriseSEval", "EnterpriseSNEval",
    };

    // Windows 7 Starter/Home Basic/Home Premium and Ultimate have no volume licensing either.
    private static readonly HashSet<string> Consumer = new(StringComparer.OrdinalIgnoreCase)
    {
        "Starter", "StarterN", "HomeBasic", "HomeBasicN", "HomePremium", "HomePremiumN", "Ultimate", "UltimateN",
    };

    /// <summary>Categorises an EditionID (or a <c>LicenseFamily</c>, which uses the same names).</summary>
    public static EditionCategory Categorize(string? editionId)
    {
        if (string.IsNullOrWhiteSpace(editionId))
        {
            return EditionCategory.Unknown;
        }

        string id = editionId.Trim();
        if (Business.Contains(id))
        {
            return EditionCategory.Business;
        }

        if (id.StartsWith("Core", StringComparison.OrdinalIgnoreCase) || Consumer.Contains(id))
        {
            return EditionCategory.Consumer;
        }

        if (id.StartsWith("Server", StringComparison.OrdinalIgnoreCase))
        {
            return EditionCategory.Server;
        }

        return EditionCategory.Unknown;
    }

    /// <summary>
    /// Extracts the edition from a product name such as <c>Windows(R), Professional edition</c> or
    /// <c>Windows(R) 7, Enterprise edition</c>; null when the name has no edition.
    /// </summary>
    public static string? EditionFromProductName(string? productName)
    {
        if (string.IsNullOrWhiteSpace(productName))
        {
            return null;
        }

        Match match = EditionInName().Match(productName);
        return match.Success ? match.Groups["edition"].Value : null;
    }

    /// <summary>
    /// Extracts the edition from <c>OA3xOriginalProductKeyDescription</c>, e.g. <c>Core</c> from
    /// <c>[4.0] Core OEM:DM</c>; null when it cannot be read.
    /// </summary>
    public static string? EditionFromFirmwareKeyDescription(string? description)
    {
        if (string.IsNullOrWhiteSpace(description))
        {
            return null;
        }

        Match match = FirmwareDescription().Match(description);
        return match.Success ? match.Groups["edition"].Value : null;
    }

    [GeneratedRegex(@",\s*(?<edition>[A-Za-z][A-Za-z0-9]*)\s+edition\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex EditionInName();

    [GeneratedRegex(@"^\s*(?:\[[^\]]*\]\s*)?(?<edition>[A-Za-z][A-Za-z0-9]*)(?:\s|$)", RegexOptions.CultureInvariant)]
    private static partial Regex FirmwareDescription();
}
