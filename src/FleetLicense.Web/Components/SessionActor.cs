using Microsoft.JSInterop;

namespace FleetLicense.Web.Components;

/// <summary>
/// The name a person gives when they act (acknowledge, waive, change the policy), remembered for their browser
/// session (sessionStorage) so they type it once. The dashboard has no sign-in, so it is whatever they say.
/// </summary>
public sealed class SessionActor(IJSRuntime js)
{
    public const int MaxLength = 200;
    private const string StorageKey = "fleetlicense.actor";
    private bool _loaded;

    public string? Name { get; private set; }

    public async Task<string?> GetAsync(CancellationToken cancellationToken)
    {
        if (!_loaded)
        {
            try
            {
                Name = await js.InvokeAsync<string?>("sessionStorage.getItem", cancellationToken, StorageKey);
                _loaded = true;
            }
            catch (Exception ex) when (ex is JSException or InvalidOperationException or JSDisconnectedException or TaskCanceledException)
            {
                // Prerendering or a closing circuit: no browser to ask; the name is only a convenience.
            }
        }

        return Name;
    }

    public async Task RememberAsync(string name, CancellationToken cancellationToken)
    {
        Name = name.Trim();
        _loaded = true;
        try
        {
            await js.InvokeVoidAsync("sessionStorage.setItem", cancellationToken, StorageKey, Name);
        }
        catch (Exception ex) when (ex is JSException or InvalidOperationException or JSDisconnectedException or TaskCanceledException)
        {
            // Kept in memory for this circuit anyway.
        }
    }

    /// <summary>An error message, or null when the name will do.</summary>
    public static string? Validate(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "Say who you are: the name goes into the audit trail."
        : name.Trim().Length > MaxLength ? $"At most {MaxLength} characters."
        : FleetLicense.Domain.Keys.InputText.Problem(name);
}
