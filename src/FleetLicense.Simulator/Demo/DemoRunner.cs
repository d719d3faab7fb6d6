using System.Globalization;

using FleetLicense.Contracts;
using FleetLicense.Simulator.Cli;
using FleetLicense.Simulator.Fleet;
using FleetLicense.Simulator.Http;
using FleetLicense.Simulator.Simulation;

namespace FleetLicense.Simulator.Demo;

/// <summary>
/// <c>--demo</c>: creates an enrolment secret, enrols the fleet, then sends each machine's history oldest first
/// in batches of at most <see cref="MaxBatch"/> reports of that machine. Throttling (429/503) is honoured by the
/// client; the first hard error stops the run.
/// </summary>
internal sealed class DemoRunner(SimulatorOptions options, FleetApiClient api, TextWriter output, TimeProvider time)
{
    /// <summary>The batch endpoint's limit.</summary>
    public const int MaxBatch = 100;

    private long _enrolled;
    private long _machinesSent;
    private long _reportsSent;
    private long _duplicates;
    private long _batches;
    private long _totalReports;
    private long _sendStart;

    public long ReportsSent => Interlocked.Read(ref _reportsSent);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long Batches => Interlocked.Read(ref _batches);

    public long Enrolled => Interlocked.Read(ref _enrolled);

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        long start = time.GetTimestamp();
        FleetModel fleet = new FleetGenerator(options.Seed, options.Machines).Generate();
        var clock = new SimulationClock(time.GetUtcNow(), options.Days);
        MachineTimeline[] timelines = [.. fleet.Machines.Select(m => MachineTimeline.Build(m, clock))];
        _totalReports = timelines.Sum(t => (long)t.Entries.Count);
        await output.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"demo: {fleet.Machines.Count:N0} machines (seed {options.Seed}), {_totalReports:N0} reports over {options.Days} days, to {api.Server}")).ConfigureAwait(false);

        using var progressStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task progress = ProgressAsync(start, progressStop.Token);
        string outcome = "failed";
        try
        {
            string secret = await FleetEnroller.CreateSecretAsync(api, options.AdminToken, $"demo seed {options.Seed}", fleet.Machines.Count, time, cancellationToken).ConfigureAwait(false);
            EnrollResponseV1[] enrolled = await FleetEnroller.EnrollAllAsync(
                api, secret, fleet.Machines, options.Concurrency, () => Interlocked.Increment(ref _enrolled), cancellationToken).ConfigureAwait(false);

            ReportFactory factory = ReportFactory.FromEnrollment(enrolled[0]);
            Interlocked.Exchange(ref _sendStart, time.GetTimestamp());
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(
                Enumerable.Range(0, timelines.Length),
                parallel,
                (i, token) => new ValueTask(SendHistoryAsync(timelines[i], enrolled[i].DeviceToken, factory, token))).ConfigureAwait(false);
            outcome = "finished";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = "interrupted";
            throw;
        }
        finally
        {
            await progressStop.CancelAsync().ConfigureAwait(false);
            await progress.ConfigureAwait(false);
            await WriteSummaryAsync(fleet, start, outcome).ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }

    private async Task SendHistoryAsync(MachineTimeline timeline, string deviceToken, ReportFactory factory, CancellationToken cancellationToken)
    {
        List<LicenseReportV1> reports = factory.History(timeline);
        for (int offset = 0; offset < reports.Count; offset += MaxBatch)
        {
            List<LicenseReportV1> chunk = reports.GetRange(offset, Math.Min(MaxBatch, reports.Count - offset));
            ReportBatchAckV1 ack = await api.PostBatchWithRetryAsync(
                deviceToken, new ReportBatchV1 { Reports = chunk }, $"send the reports of {timeline.Machine.Hostname}", cancellationToken).ConfigureAwait(false);
            if (ack.Results.Count != chunk.Count)
            {
                throw new ApiException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"could not send the reports of {timeline.Machine.Hostname}: the server acknowledged {ack.Results.Count} of {chunk.Count}"));
            }

            Interlocked.Add(ref _duplicates, ack.Results.Count(r => r.Duplicate));
            Interlocked.Add(ref _reportsSent, chunk.Count);
            Interlocked.Increment(ref _batches);
        }

        Interlocked.Increment(ref _machinesSent);
    }

    private async Task ProgressAsync(long start, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.ProgressInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await output.WriteLineAsync(string.Create(
                    CultureInfo.InvariantCulture,
                    $"[{time.GetElapsedTime(start).TotalSeconds,6:0.0}s] enrolled {Enrolled:N0}/{options.Machines:N0}  histories {Interlocked.Read(ref _machinesSent):N0}/{options.Machines:N0}  reports {ReportsSent:N0}/{_totalReports:N0}  {ReportRate():N0} reports/s  retries {api.Retries.Total:N0}")).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped at the end of the run.
        }
    }

    private double ReportRate()
    {
        long sendStart = Interlocked.Read(ref _sendStart);
        return sendStart == 0 ? 0 : ReportsSent / Math.Max(time.GetElapsedTime(sendStart).TotalSeconds, 1e-3);
    }

    private async Task WriteSummaryAsync(FleetModel fleet, long start, string outcome)
    {
        await output.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"demo {outcome} after {time.GetElapsedTime(start).TotalSeconds:0.0}s: {Enrolled:N0}/{options.Machines:N0} machines enrolled, {ReportsSent:N0}/{_totalReports:N0} reports sent in {Batches:N0} batches ({ReportsSent - Duplicates:N0} new, {Duplicates:N0} duplicate), {ReportRate():N0} reports/s")).ConfigureAwait(false);
        (int Status, long Count)[] retries = [.. api.Retries.NonZero()];
        await output.WriteLineAsync(retries.Length == 0
            ? "retries: none"
            : string.Create(CultureInfo.InvariantCulture, $"retries: {retries.Sum(r => r.Count):N0} ({string.Join(", ", retries.Select(r => $"{NoResponse.Describe(r.Status)}: {r.Count}"))})")).ConfigureAwait(false);
        await output.WriteLineAsync("scenarios: " + string.Join(", ", Enum.GetValues<Scenario>()
            .Select(s => (Scenario: s, Count: fleet.CountOf(s)))
            .Where(s => s.Count > 0)
            .Select(s => string.Create(CultureInfo.InvariantCulture, $"{Scenarios.Name(s.Scenario)} {s.Count:N0}")))).ConfigureAwait(false);
    }
}
