using Microsoft.Extensions.Options;

namespace FleetLicense.Web.Infrastructure;

/// <summary>
/// The one way a setting that is no longer read is refused: a deployment still setting it would silently run on
/// the defaults, so options validation fails at start, naming each such key and what replaced it.
/// </summary>
public static class RemovedSettings
{
    /// <summary>Fails <typeparamref name="T"/>'s validation while <paramref name="path"/>, or any key below it, is set.</summary>
    public static OptionsBuilder<T> RefuseRemoved<T>(this OptionsBuilder<T> options, string path, Func<string, string> replacement) where T : class
    {
        options.Services.AddSingleton<IValidateOptions<T>>(services => new Refusal<T>(options.Name, services.GetRequiredService<IConfiguration>(), path, replacement));
        return options;
    }

    private sealed class Refusal<T>(string? name, IConfiguration configuration, string path, Func<string, string> replacement) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? optionsName, T options)
        {
            if (name is not null && name != optionsName)
            {
                return ValidateOptionsResult.Skip;
            }

            var set = configuration.GetSection(path).AsEnumerable().Where(e => e.Value is not null).Select(e => e.Key).Order(StringComparer.OrdinalIgnoreCase).ToList();
            return set.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(set.Select(key => $"{key} is no longer read: {replacement(key)}"));
        }
    }
}
