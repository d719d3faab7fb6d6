using FleetLicense.Testing;
using FleetLicense.Web.Features.Platform;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FleetLicense.Web.Tests.Platform;

public sealed class BackgroundLoopsTests
{
    [Fact]
    public async Task KeepRunning_WhenTheBodyThrowsAnything_IsDownUntilItRestartsAfterAPause()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var loops = new BackgroundLoops(time, NullLogger<BackgroundLoops>.Instance);
        var health = new BackgroundLoopsHealthCheck(loops);
        var runs = 0;
        var recovered = new TaskCompletionSource();
        using var stop = new CancellationTokenSource();

        var loop = loops.KeepRunningAsync("flaky", async (status, ct) =>
        {
            if (Interlocked.Increment(ref runs) == 1)
            {
                // Not a database error, nothing the body expected: a bug, say.
                throw new FormatException("a bug");
            }

            recovered.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }, stop.Token);

        await Eventually.UntilAsync(() => Task.FromResult(loops.All.Single().IsDown), what: "the loop to be down after its failure");
        var down = await health.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(1));
        await recovered.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var up = await health.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        await loop;

        Assert.Equal(HealthStatus.Unhealthy, down.Status);
        Assert.Contains("flaky", down.Description, StringComparison.Ordinal);
        Assert.Contains("FormatException: a bug", down.Description, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Healthy, up.Status);
        Assert.Equal(2, runs);
        Assert.False(loops.All.Single().IsDown);
        Assert.Equal("FormatException: a bug", loops.All.Single().LastError);
    }

    [Fact]
    public async Task KeepRunning_WhenTheBodyReturnsWhileTheAppRuns_CountsAsDown()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var loops = new BackgroundLoops(time, NullLogger<BackgroundLoops>.Instance);
        using var stop = new CancellationTokenSource();

        var loop = loops.KeepRunningAsync("quitter", (_, _) => Task.CompletedTask, stop.Token);

        await Eventually.UntilAsync(() => Task.FromResult(loops.All.Single().IsDown), what: "a loop that ended by itself to count as down");
        await stop.CancelAsync();
        await loop;
        Assert.Contains("ended by itself", loops.All.Single().LastError, StringComparison.Ordinal);
    }
}
