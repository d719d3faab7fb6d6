using PdfSharp.Fonts;

namespace FleetLicense.Web.Features.Exports;

/// <summary>
/// Serves DejaVu Sans (regular and bold) from resources embedded in this assembly, so PDF export
/// does not depend on fonts installed on the host. PDFsharp 6's Core build (the one used on Linux)
/// has no access to system fonts and throws on the first <c>XFont</c> unless a resolver is set.
/// </summary>
/// <remarks>
/// The project file must embed the fonts from the <c>Fonts/</c> folder, e.g.
/// <c>&lt;EmbeddedResource Include="Fonts/DejaVuSans.ttf;Fonts/DejaVuSans-Bold.ttf" /&gt;</c>.
/// Resources are found by name suffix, so the project's root namespace does not matter.
/// </remarks>
public sealed class DejaVuFontResolver : IFontResolver
{
    /// <summary>The family name to use for <c>XFont</c>s; any other family also resolves to DejaVu Sans.</summary>
    public const string FamilyName = "DejaVu Sans";

    const string RegularFace = "DejaVuSans";
    const string BoldFace = "DejaVuSans-Bold";

    static readonly DejaVuFontResolver Instance = new();
    static readonly Lock RegistrationLock = new();
    static bool registered;

    DejaVuFontResolver()
    {
    }

    /// <summary>
    /// Installs the resolver once per process; safe to call from many threads and on every export.
    /// If the application already installed its own resolver, that one is kept and this one becomes
    /// PDFsharp's fallback resolver (used only for families the application's resolver returns null for).
    /// </summary>
    public static void Register()
    {
        lock (RegistrationLock)
        {
            if (registered)
            {
                return;
            }

            try
            {
                // Assigning FontResolver over a resolver of another type silently replaces it, so look first.
                var current = GlobalFontSettings.FontResolver;
                if (current is null)
                {
                    GlobalFontSettings.FontResolver = Instance;
                }
                else if (current is not DejaVuFontResolver && GlobalFontSettings.FallbackFontResolver is null)
                {
                    GlobalFontSettings.FallbackFontResolver = Instance;
                }
            }
            catch (InvalidOperationException)
            {
                // PDFsharp refuses to change resolvers once fonts were resolved: someone else configured
                // fonts first. Keep their configuration; XFont creation reports it if it lacks a family.
            }

            registered = true;
        }
    }

    /// <inheritdoc />
    public FontResolverInfo ResolveTypeface(string familyName, bool bold, bool italic) =>
        // Unknown families (PDFsharp may ask for e.g. "Arial" or "Courier New") fall back to DejaVu Sans.
        // There is no italic face embedded, so PDFsharp slants the upright one.
        new(bold ? BoldFace : RegularFace, mustSimulateBold: false, mustSimulateItalic: italic);

    /// <inheritdoc />
    public byte[]? GetFont(string faceName) => faceName switch
    {
        // PDFsharp caches the font per face name, so each resource is read once per process.
        RegularFace => ReadResource("Fonts.DejaVuSans.ttf"),
        BoldFace => ReadResource("Fonts.DejaVuSans-Bold.ttf"),
        _ => null,
    };

    static byte[] ReadResource(string suffix)
    {
        var assembly = typeof(DejaVuFontResolver).Assembly;
        var name = assembly.GetManifestResourceNames()
            .FirstOrDefault(n => n == suffix || n.EndsWith("." + suffix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException(
                $"Embedded font resource '*{suffix}' is missing from {assembly.GetName().Name}; add the file as an EmbeddedResource.");

        using var stream = assembly.GetManifestResourceStream(name)!;
        using var bytes = new MemoryStream(checked((int)stream.Length));
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }
}
