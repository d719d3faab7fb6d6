using FleetLicense.Contracts;

namespace FleetLicense.Domain.Licensing;

/// <summary>Well-known <c>ApplicationID</c> values (DOMAIN.md §1).</summary>
public static class ApplicationIds
{
    /// <summary>Windows.</summary>
    public const string Windows = "55c92734-d682-4d71-983e-d6ec3f16059f";

    /// <summary>Office 2013 and later (also in <c>SoftwareLicensingProduct</c> on Windows 8+).</summary>
    public const string Office = "0ff1ce15-a989-479d-af46-f275c6370663";

    /// <summary>Office 2010 (only in <c>OfficeSoftwareProtectionProduct</c>).</summary>
    public const string Office2010 = "59a52881-a989-479d-af46-f275c6370663";
}

/// <summary>Decides what kind of product a licensing row is.</summary>
public static class ProductClassifier
{
    /// <summary>
    /// Classifies by application id first; rows without one (slmgr /dli, /xpr) by their name. Add-ons (ESU)
    /// are never the Windows base licence, even though they share its application id.
    /// </summary>
    public static ProductKind Classify(string? applicationId, bool? isAddon, string? name, string? description)
    {
        bool addon = isAddon ?? LooksLikeAddon(name);
        string? app = applicationId?.Trim().Trim('{', '}');
        if (!string.IsNullOrEmpty(app))
        {
            if (string.Equals(app, ApplicationIds.Windows, StringComparison.OrdinalIgnoreCase))
            {
                return addon || LooksLikeAddon(name) ? ProductKind.WindowsAddon : ProductKind.Windows;
            }

            if (string.Equals(app, ApplicationIds.Office, StringComparison.OrdinalIgnoreCase)
                || string.Equals(app, ApplicationIds.Office2010, StringComparison.OrdinalIgnoreCase))
            {
                return ProductKind.Office;
            }

            return ProductKind.Other;
        }

        string text = $"{name} {description}";
        if (text.Contains("Office", StringComparison.OrdinalIgnoreCase))
        {
            return ProductKind.Office;
        }

        if (text.Contains("Windows", StringComparison.OrdinalIgnoreCase))
        {
            return addon ? ProductKind.WindowsAddon : ProductKind.Windows;
        }

        return ProductKind.Other;
    }

    private static bool LooksLikeAddon(string? name) =>
        name is not null && (name.Contains("add-on", StringComparison.OrdinalIgnoreCase) || name.Contains("-ESU-", StringComparison.OrdinalIgnoreCase));
}
