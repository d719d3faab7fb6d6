using FleetLicense.Contracts;
using FleetLicense.Domain.Agents;
using FleetLicense.Domain.Licensing;
using FleetLicense.Domain.Rules;
using FleetLicense.Web.Components;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Policy;
using Npgsql;

namespace FleetLicense.Web.Features.Overview;

public sealed record Segment(string Key, string Label, long Count);

public sealed record TrendPoint(DateOnly Day, double Value);

public sealed record FleetOverview(
    DateTimeOffset ComputedAt,
    long Machines,
    long Activated,
    long InGrace,
    long NotActivated,
    long NotReported,
    long SilentAgents,
    TimeSpan SilentAfter,
    long SeenLast24Hours,
    IReadOnlyList<Segment> Statuses,
    IReadOnlyList<Segment> Channels,
    IReadOnlyList<Segment> Editions,
    IReadOnlyList<Segment> OpenFlagsBySeverity,
    IReadOnlyList<(DateOnly Day, long Critical, long Warning, long Info)> FlagsOpenedPerDay,
    IReadOnlyList<TrendPoint> ActivatedPercentPerDay)
{
    public double ActivatedPercent => Machines == 0 ? 0 : 100.0 * Activated / Machines;

    public long OpenFlags => OpenFlagsBySeverity.Sum(s => s.Count);
}

/// <summary>
/// The fleet overview. Computing it scans the fleet (about 0.7 s at a million machines, see bench/README.md), so
/// each node keeps the latest result and recomputes it when it is older than <see cref="MaxAge"/>, or older than
/// <see cref="ChangedMaxAge"/> when the fleet has changed; pages read the kept result.
/// </summary>
public sealed class OverviewService(NpgsqlDataSource dataSource, PolicyService policies, TimeProvider time) : IDisposable
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    /// <summary>How stale the overview may be while reports are arriving: one recomputation per node at most this often.</summary>
    public static readonly TimeSpan ChangedMaxAge = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _computing = new(1, 1);
    private FleetOverview? _latest;

    /// <summary>The kept overview when it is younger than <paramref name="maxAge"/> (default <see cref="MaxAge"/>), else a new one.</summary>
    public async Task<FleetOverview> GetAsync(CancellationToken cancellationToken, TimeSpan? maxAge = null)
    {
        if (_latest is { } latest && time.GetUtcNow() - latest.ComputedAt < (maxAge ?? MaxAge))
        {
            return latest;
        }

        await _computing.WaitAsync(cancellationToken);
        try
        {
            // Whoever waited behind a computation takes its result instead of computing again.
            if (_latest is { } justComputed && time.GetUtcNow() - justComputed.ComputedAt < TimeSpan.FromSeconds(1))
            {
                return justComputed;
            }

            return _latest = await ComputeAsync(cancellationToken);
        }
        finally
        {
            _computing.Release();
        }
    }

    public async Task<FleetOverview> ComputeAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var silentAfter = (await policies.GetCurrentAsync(cancellationToken)).Policy.SilentAfter;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                MachineStore.SummaryCountsCommand(),
                MachineStore.SilentAndNotSeenCommand(AgentLiveness.SilentBefore(now, silentAfter), now.AddHours(-24)),
                FlagStore.OpenOrAcknowledgedBySeverityCommand(),
                FlagStore.FirstSeenPerDayCommand(now.AddDays(-90)),
            },
        };

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var statuses = new List<Segment>();
        var channels = new List<Segment>();
        var editions = new List<Segment>();
        long total = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            var count = reader.GetInt64(4);
            switch (reader.GetInt32(0))
            {
                case 3: // grouped by status
                    var code = reader.IsDBNull(1) ? (int?)null : reader.GetInt32(1);
                    statuses.Add(new Segment(code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none", StatusLabel(code), count));
                    break;
                case 5: // by channel
                    channels.Add(new Segment(reader.IsDBNull(2) ? "none" : reader.GetString(2), reader.IsDBNull(2) ? "Not reported" : Display.ChannelLabel(reader.GetString(2)), count));
                    break;
                case 6: // by edition
                    editions.Add(new Segment(reader.IsDBNull(3) ? "none" : reader.GetString(3), reader.IsDBNull(3) ? "Not reported" : reader.GetString(3), count));
                    break;
                case 7: // the whole fleet
                    total = count;
                    break;
            }
        }

        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var silent = reader.GetInt64(0);
        var seen = Math.Max(0, total - reader.GetInt64(1));

        await reader.NextResultAsync(cancellationToken);
        var severities = new Dictionary<string, long>();
        while (await reader.ReadAsync(cancellationToken))
        {
            severities[reader.GetString(0)] = reader.GetInt64(1);
        }

        await reader.NextResultAsync(cancellationToken);
        var opened = new SortedDictionary<DateOnly, long[]>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var day = reader.GetFieldValue<DateOnly>(0);
            var counts = opened.TryGetValue(day, out var c) ? c : opened[day] = new long[3];
            counts[Severities.Position(Enum.Parse<FindingSeverity>(reader.GetString(1)))] += reader.GetInt64(2);
        }

        await reader.DisposeAsync();
        var trend = await ActivationTrendAsync(connection, now, cancellationToken);

        long Count(StatusBucket bucket) => statuses.Where(s => StatusBuckets.Of(StatusCode(s.Key)) == bucket).Sum(s => s.Count);
        return new FleetOverview(
            now,
            total,
            Count(StatusBucket.Activated),
            Count(StatusBucket.InGrace),
            Count(StatusBucket.NotActivated),
            Count(StatusBucket.NotReported),
            silent,
            silentAfter,
            seen,
            [.. statuses.OrderByDescending(s => s.Count)],
            [.. channels.OrderByDescending(s => s.Count)],
            [.. editions.OrderByDescending(s => s.Count)],
            [.. Severities.MostSevereFirst.Select(s => new Segment(s.ToString(), s.ToString(), severities.GetValueOrDefault(s.ToString())))],
            [.. opened.Select(o => (o.Key, o.Value[0], o.Value[1], o.Value[2]))],
            trend);
    }

    /// <summary>
    /// Activated share of the fleet per day for 90 days: from the daily fleet snapshots once there are a week of
    /// them, before that (a new installation, or the demo's back-dated history) rebuilt from the status history of
    /// Windows products, kept for ten minutes because that is a scan of the history.
    /// </summary>
    private async Task<IReadOnlyList<TrendPoint>> ActivationTrendAsync(NpgsqlConnection connection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var since = DateOnly.FromDateTime(now.UtcDateTime.AddDays(-90));
        var fromSnapshots = await ReadTrendAsync(connection, """
            SELECT day, sum(machines) FILTER (WHERE value = 'Licensed'), sum(machines)
            FROM fleet_snapshots WHERE dimension = 'status' AND day >= $1 GROUP BY day ORDER BY day
            """, since, cancellationToken);
        if (fromSnapshots.Count >= 7)
        {
            return fromSnapshots;
        }

        if (_historyTrend is { } cached && now - cached.At < TimeSpan.FromMinutes(10))
        {
            return cached.Points;
        }

        var fromHistory = await MachineHistoryStore.WindowsLicensedByDayAsync(connection, cancellationToken);
        var points = fromHistory.Where(d => d.Day >= since).Select(d => Point(d.Day, d.Licensed, d.Products)).ToList();
        // Kept only once there is a trend to keep: a new installation's first minutes must not hide its history.
        if (points.Count >= 2)
        {
            _historyTrend = (now, points);
        }

        return points;
    }

    private (DateTimeOffset At, IReadOnlyList<TrendPoint> Points)? _historyTrend;

    private static async Task<List<TrendPoint>> ReadTrendAsync(NpgsqlConnection connection, string sql, DateOnly since, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = since });
        var points = new List<TrendPoint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var licensed = reader.IsDBNull(1) ? 0 : Convert.ToInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
            var machines = reader.IsDBNull(2) ? 0 : Convert.ToInt64(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture);
            points.Add(Point(reader.GetFieldValue<DateOnly>(0), licensed, machines));
        }

        return points;
    }

    private static TrendPoint Point(DateOnly day, long licensed, long machines) =>
        new(day, machines == 0 ? 0 : Math.Clamp(100.0 * licensed / machines, 0, 100));

    /// <summary>The status code a segment of <see cref="FleetOverview.Statuses"/> stands for (null: not reported).</summary>
    public static int? StatusCode(string segmentKey) =>
        segmentKey == "none" ? null : int.Parse(segmentKey, System.Globalization.CultureInfo.InvariantCulture);

    public static string StatusLabel(int? code) => code switch
    {
        null => "Not reported",
        0 => "Unlicensed",
        1 => "Licensed",
        2 => "Initial grace",
        3 => "Additional grace",
        4 => "Non-genuine grace",
        5 => "Notification",
        6 => "Extended grace",
        _ => $"Unknown ({code})",
    };

    public void Dispose() => _computing.Dispose();
}
