using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FleetLicense.Testing;
using MimeKit;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace FleetLicense.Web.Tests.Alerts;

/// <summary>An SMTP server in the test process (the SmtpServer package) on a free loopback port; keeps what it receives, parsed.</summary>
internal sealed class TestSmtpServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    private TestSmtpServer(int port, string? user, string? password, X509Certificate2? certificate)
    {
        Port = port;
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(e =>
            {
                e.Endpoint(new IPEndPoint(IPAddress.Loopback, port));
                if (certificate is not null)
                {
                    e.Certificate(certificate);
                }

                if (user is not null)
                {
                    e.AuthenticationRequired().AllowUnsecureAuthentication(certificate is null);
                }
            })
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(Messages));
        if (user is not null)
        {
            services.Add(new DelegatingUserAuthenticator((u, p) =>
            {
                var ok = u == user && p == password;
                Logins.Enqueue($"{u}:{(ok ? "ok" : "refused")}");
                return ok;
            }));
        }

        _running = new SmtpServer.SmtpServer(options, services).StartAsync(_stop.Token);
    }

    public int Port { get; }

    public ConcurrentQueue<MimeMessage> Messages { get; } = new();

    public ConcurrentQueue<string> Logins { get; } = new();

    public static async Task<TestSmtpServer> StartAsync(string? user = null, string? password = null, X509Certificate2? certificate = null)
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var server = new TestSmtpServer(port, user, password, certificate);
        // Listening starts asynchronously; wait until a connection is accepted.
        await Eventually.UntilAsync(async () =>
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10), "the SMTP server to listen");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private sealed class Store(ConcurrentQueue<MimeMessage> messages) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            messages.Enqueue(await MimeMessage.LoadAsync(stream, cancellationToken));
            return SmtpResponse.Ok;
        }
    }
}
