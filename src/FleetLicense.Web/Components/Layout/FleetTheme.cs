using MudBlazor;

namespace FleetLicense.Web.Components.Layout;

public static class FleetTheme
{
    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1f5fa8",
            Secondary = "#00838f",
            AppbarBackground = "#173f6e",
            Background = "#f5f7fa",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#6ea8ff",
            Secondary = "#4dd0e1",
            AppbarBackground = "#10243d",
        },
    };
}
