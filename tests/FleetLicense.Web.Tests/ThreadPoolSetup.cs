using System.Runtime.CompilerServices;

namespace FleetLicense.Web.Tests;

/// <summary>
/// bUnit's synchronous WaitFor* calls block a pool thread each while the renderer needs another to run the check.
/// With many tests in parallel on two busy cores the pool grew too slowly and a page test timed out without its
/// check ever running (bUnit's own diagnosis). Starting with more threads removes that wait; a longer default wait
/// covers a box loaded by other builds (a wait ends as soon as its check passes, so passing tests are not slower).
/// </summary>
internal static class ThreadPoolSetup
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), io);
        Bunit.BunitContext.DefaultWaitTimeout = TimeSpan.FromSeconds(30);
    }
}
