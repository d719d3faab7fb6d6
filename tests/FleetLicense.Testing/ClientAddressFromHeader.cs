using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace FleetLicense.Testing;

/// <summary>
/// The in-process test server has no client address; this startup filter gives each request the one named in its
/// <see cref="Header"/>, ahead of the app's own middleware (forwarded headers, https requirement, abuse limits).
/// Register it with <c>services.AddSingleton&lt;IStartupFilter, ClientAddressFromHeader&gt;()</c>.
/// </summary>
public sealed class ClientAddressFromHeader : IStartupFilter
{
    public const string Header = "X-Test-Client-Address";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            if (context.Request.Headers.TryGetValue(Header, out var address))
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse(address.ToString());
            }

            return nextMiddleware(context);
        });
        next(app);
    };
}
