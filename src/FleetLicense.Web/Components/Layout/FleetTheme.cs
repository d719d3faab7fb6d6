using MudBlazor;

namespace FleetLicense.Web.Components.Layout;

/// <summary>
/// The app's palettes. Every text colour meets WCAG AA (4.5:1) on the surfaces it is drawn on, checked by the
/// axe-core test over every page in both themes: MudBlazor's defaults (e.g. #f44336 error text, white on #ff9800) do not.
/// </summary>
public static class FleetTheme
{
    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1f5fa8",
            Secondary = "#00707a",
            Tertiary = "#00695c",
            Info = "#1565c0",
            Success = "#1b5e20",
            Warning = "#a15c00",
            Error = "#c62828",
            AppbarBackground = "#173f6e",
            Background = "#f5f7fa",
            TextSecondary = "rgba(0,0,0,0.64)",
        },
        PaletteDark = new PaletteDark
        {
            // Light (Material 200) accents on dark surfaces, so text and tinted chips keep 4.5:1 even on a striped row,
            // and filled buttons and chips carry dark text, not white.
            Primary = "#9bbfff",
            PrimaryContrastText = DarkOnLight,
            Secondary = "#80deea",
            SecondaryContrastText = DarkOnLight,
            Tertiary = "#80cbc4",
            TertiaryContrastText = DarkOnLight,
            Info = "#90caf9",
            InfoContrastText = DarkOnLight,
            Success = "#a5d6a7",
            SuccessContrastText = DarkOnLight,
            Warning = "#ffb74d",
            WarningContrastText = DarkOnLight,
            Error = "#ffab91",
            ErrorContrastText = DarkOnLight,
            AppbarBackground = "#10243d",
            // MudBlazor's dark stripes (white at 20 %) lift a row so far that no accent keeps 4.5:1 on it.
            TableStriped = "rgba(255,255,255,0.03)",
            TableHover = "rgba(255,255,255,0.06)",
            TextPrimary = "rgba(255,255,255,0.87)",
            TextSecondary = "rgba(255,255,255,0.70)",
            DrawerText = "rgba(255,255,255,0.70)",
            AppbarText = "rgba(255,255,255,0.87)",
        },
    };

    private const string DarkOnLight = "rgba(0,0,0,0.87)";
}
