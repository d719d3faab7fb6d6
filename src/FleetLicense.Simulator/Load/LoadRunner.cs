using System.Globalization;
using System.Text.Json;

using FleetLicense.Contracts;
using FleetLicense.Simulator.Cli;
using FleetLicense.Simulator.Fleet;
using FleetLicense.Simulator.Http;
using FleetLicense.Simulator.Simulation;

namespace FleetLicense.Simulator.Load;

/// <summary>
/// <c>--load</c>: enrols N machines (not timed), then sends fresh reports open-loop at the target rate, machines
/// round-robin, and prints a progress line every few seconds and a summary at the end.
/// </summary>
internal sealed class LoadRunner(SimulatorOptions options, FleetApiClient api, TextWriter output, TimeProvider time)
{
    /// <summary>The server's default <c>Ingestion:DeviceRequestsPerMinute</c> (120), per second.</summary>
    private const double DefaultDeviceRequestsPerSecond = 2;

    public LoadStats Stats { get; } = new();

    public long Scheduled { get; private set; }

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        // Opened first: a path that cannot be written fails the run before any machine is enrolled.
        using AckedLog? ackedLog = options.AckedLog.Length > 0 ? AckedLog.Open(options.AckedLog) : null;
        FleetModel fleet = new FleetGenerator(options.Seed, options.Machines).Generate();
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"load: enrolling {fleet.Machines.Count:N0} machines (seed {options.Seed}) with {api.Server} ...")).ConfigureAwait(false);
        long enrolStart = time.GetTimestamp();
        string secret = await FleetEnroller.CreateSecretAsync(api, options.AdminToken, $"load seed {options.Seed}", fleet.Machines.Count, time, cancellationToken).ConfigureAwait(false);
        EnrollResponseV1[] enrolled = await FleetEnroller.EnrollAllAsync(api, secret, fleet.Machines, options.Concurrency, static () => { }, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"load: enrolled {enrolled.Length:N0} machines in {time.GetElapsedTime(enrolStart).TotalSeconds:0.0}s")).ConfigureAwait(false);

        // Each machine reports its state as of now; only the id and the time change per request.
        ReportFactory factory = ReportFactory.FromEnrollment(enrolled[0]);
        var clock = new SimulationClock(time.GetUtcNow(), 1);
        LicenseReportV1[] templates = [.. fleet.Machines.Select(m => factory.Build(m, MachineTimeline.Build(m, clock).PhaseAt(clock.Now), Guid.Empty, clock.Now))];
        string[] tokens = [.. enrolled.Select(e => e.DeviceToken)];
        string path = options.BatchSize > 1 ? "api/v1/reports/batch" : "api/v1/reports";

        await output.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"load: {options.Rate:0.###} req/s × {options.BatchSize} report(s) to /{path} for {options.Duration.TotalSeconds:0.###}s, open loop, {tokens.Length:N0} machines round-robin")).ConfigureAwait(false);

        double perMachine = options.Rate / tokens.Length;
        if (perMachine > DefaultDeviceRequestsPerSecond)
        {
            await output.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"load: note: {perMachine:0.##} req/s per machine is above the server's default per-device limit ({DefaultDeviceRequestsPerSecond:0.#}/s); expect 429s, or use --machines {Math.Ceiling(options.Rate / DefaultDeviceRequestsPerSecond):0} or more")).ConfigureAwait(false);
        }

        var scheduler = new OpenLoopScheduler(time);
        using var progressStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long runStart = time.GetTimestamp();
        Task progress = ProgressAsync(scheduler, runStart, progressStop.Token);
        bool interrupted = false;
        try
        {
            // Requests in flight are not cancelled by Ctrl+C: they finish (or time out) and are counted.
            Scheduled = await scheduler.RunAsync(
                options.Rate,
                options.Duration,
                (index, due) => SendAsync(index, due, templates, tokens, path, ackedLog),
                cancellationToken).ConfigureAwait(false);
            interrupted = cancellationToken.IsCancellationRequested;
            using var drainLimit = new CancellationTokenSource(options.Timeout + TimeSpan.FromSeconds(5), time);
            await scheduler.DrainAsync(drainLimit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            interrupted = true;
        }
        finally
        {
            await progressStop.CancelAsync().ConfigureAwait(false);
            await progress.ConfigureAwait(false);
        }

        TimeSpan elapsed = time.GetElapsedTime(runStart);
        LoadCounters total = Stats.Total;
        await output.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"load {(interrupted ? "interrupted" : "finished")} after {elapsed.TotalSeconds:0.0}s: target {options.Rate:0.###} req/s, {Scheduled:N0} requests scheduled, {total.Requests:N0} completed, {total.Reports:N0} reports accepted")).ConfigureAwait(false);
        await output.WriteLineAsync($"total: {LoadStats.Format(total, elapsed)}").ConfigureAwait(false);
        if (ackedLog is not null)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"acked log: {ackedLog.Count:N0} report ids appended to {ackedLog.Path}")).ConfigureAwait(false);
        }

        await output.WriteLineAsync("latency is measured from each request's scheduled send time (open loop: no coordinated omission)").ConfigureAwait(false);

        if (interrupted)
        {
            return ExitCodes.Interrupted;
        }

        return total.Ok == 0 ? ExitCodes.Failure : ExitCodes.Success;
    }

    private async Task SendAsync(long index, long dueTimestamp, LicenseReportV1[] templates, string[] tokens, string path, AckedLog? ackedLog)
    {
        int machine = (int)(index % templates.Length);
        DateTimeOffset now = time.GetUtcNow();
        var ids = new Guid[options.BatchSize];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = Guid.CreateVersion7(now);
        }

        byte[] body = options.BatchSize == 1
            ? JsonSerializer.SerializeToUtf8Bytes(templates[machine] with { ReportId = ids[0], CollectedAt = now }, FleetLicenseJsonContext.Default.LicenseReportV1)
            : JsonSerializer.SerializeToUtf8Bytes(
                new ReportBatchV1 { Reports = [.. ids.Select(id => templates[machine] with { ReportId = id, CollectedAt = now })] },
                FleetLicenseJsonContext.Default.ReportBatchV1);

        // Not cancelled by Ctrl+C: a request that was sent is allowed to finish and be counted.
        int status = await api.PostForStatusAsync(path, tokens[machine], body, CancellationToken.None).ConfigureAwait(false);

        // A 2xx batch means every report in it is durably stored (the batch endpoint's contract).
        if (status is >= 200 and < 300)
        {
            ackedLog?.Write(ids);
        }

        Stats.Record(status, options.BatchSize, (long)time.GetElapsedTime(dueTimestamp).TotalMicroseconds);
    }

    private async Task ProgressAsync(OpenLoopScheduler scheduler, long runStart, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.ProgressInterval, time);
        long windowStart = runStart;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                long now = time.GetTimestamp();
                LoadCounters window = Stats.SwapWindow();
                string line = LoadStats.Format(window, time.GetElapsedTime(windowStart, now));
                Stats.Recycle(window);
                windowStart = now;
                await output.WriteLineAsync(string.Create(
                    CultureInfo.InvariantCulture,
                    $"[{time.GetElapsedTime(runStart, now).TotalSeconds,6:0.0}s] {line}  in-flight {scheduler.InFlight}")).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped at the end of the run.
        }
    }
}
