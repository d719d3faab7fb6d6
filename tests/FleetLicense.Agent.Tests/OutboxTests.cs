using FleetLicense.Agent.Storage;
using FleetLicense.Contracts;

using Microsoft.Extensions.Logging;

using static FleetLicense.Agent.Tests.TestSupport;

namespace FleetLicense.Agent.Tests;

public class OutboxTests
{
    internal static Guid Id(int n) => Guid.Parse($"00000000-0000-7000-8000-{n:D12}");

    internal static LicenseReportV1 Report(int n, string? name = null) => new()
    {
        ReportId = Id(n),
        CollectedAt = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(n),
        AgentVersion = "0.1.0",
        Machine = new MachineFactsV1 { Hostname = name ?? $"PC-{n}" },
        Products = [],
    };

    private static Outbox Open(TempDirectory dir, ListLogger? logger = null, OutboxLimits? limits = null) =>
        new(dir.Sub("outbox"), limits ?? new OutboxLimits(), FakeTime(), logger ?? new ListLogger());

    [Fact]
    public void Enqueue_WhenNewInstanceOpened_CommittedReportsSurviveInOrder()
    {
        using var dir = new TempDirectory();
        Outbox first = Open(dir);
        LicenseReportV1[] reports = [Report(3), Report(1), Report(2)];
        foreach (LicenseReportV1 r in reports)
        {
            first.Enqueue(r);
        }

        Outbox reopened = Open(dir);
        IReadOnlyList<OutboxEntry> entries = reopened.Peek(10);

        Assert.Equal(reports.Select(r => r.ReportId), entries.Select(e => e.ReportId));
        Assert.Equal(reports[0].CollectedAt, reopened.Read(entries[0])!.CollectedAt);
        Assert.Equal("PC-3", reopened.Read(entries[0])!.Machine.Hostname);
    }

    [Fact]
    public void Peek_WhenAWriteWasAbandonedMidway_IgnoresTheTemporaryFile()
    {
        using var dir = new TempDirectory();
        Outbox outbox = Open(dir);
        outbox.Enqueue(Report(1));

        // What a process killed between write and rename leaves: a half-written temporary file.
        string json = System.Text.Json.JsonSerializer.Serialize(Report(2), FleetLicenseJsonContext.Default.LicenseReportV1);
        File.WriteAllText(Path.Combine(outbox.Directory, $".{Guid.NewGuid():N}{AtomicFile.TempSuffix}"), json[..(json.Length / 2)]);

        Outbox reopened = Open(dir);
        OutboxEntry only = Assert.Single(reopened.Peek(10));
        Assert.Equal(Report(1).ReportId, only.ReportId);
        Assert.NotNull(reopened.Read(only));
        Assert.Equal(1, reopened.Stats().Count);
    }

    [Fact]
    public void Read_WhenCommittedFileDamaged_DropsItAndLogs()
    {
        using var dir = new TempDirectory();
        var logger = new ListLogger();
        Outbox outbox = Open(dir, logger);
        OutboxEntry entry = outbox.Enqueue(Report(1));
        File.WriteAllText(entry.Path, "{\"reportId\":");

        Assert.Null(outbox.Read(entry));
        Assert.Empty(outbox.Peek(10));
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("unreadable", StringComparison.Ordinal));
    }

    [Fact]
    public void Enqueue_WhenOverCount_DropsOldestAndLogs()
    {
        using var dir = new TempDirectory();
        var logger = new ListLogger();
        Outbox outbox = Open(dir, logger, new OutboxLimits { MaxReports = 3 });

        for (int i = 1; i <= 5; i++)
        {
            outbox.Enqueue(Report(i));
        }

        Assert.Equal([Report(3).ReportId, Report(4).ReportId, Report(5).ReportId], outbox.Peek(10).Select(e => e.ReportId));
        var drops = logger.Entries.Where(e => e.Level == LogLevel.Warning && e.Message.Contains("dropped the oldest", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, drops.Count);
        Assert.Contains(Report(1).ReportId.ToString(), drops[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Enqueue_WhenOverBytes_DropsOldestButKeepsNewest()
    {
        using var dir = new TempDirectory();
        Outbox outbox = Open(dir, limits: new OutboxLimits { MaxBytes = 400 });

        for (int i = 1; i <= 4; i++)
        {
            outbox.Enqueue(Report(i, new string('a', 150)));
        }

        OutboxStats stats = outbox.Stats();
        Assert.Equal(Report(4).ReportId, outbox.Peek(10)[^1].ReportId);
        Assert.True(stats.Bytes <= 400 || stats.Count == 1, $"{stats.Count} reports, {stats.Bytes} bytes");
    }

    [Fact]
    public void Remove_DeletesOnlyThatReport()
    {
        using var dir = new TempDirectory();
        Outbox outbox = Open(dir);
        outbox.Enqueue(Report(1));
        outbox.Enqueue(Report(2));

        Assert.True(outbox.Remove(Report(1).ReportId));
        Assert.False(outbox.Remove(Report(1).ReportId));
        Assert.Equal(Report(2).ReportId, Assert.Single(outbox.Peek(10)).ReportId);
    }

    [Fact]
    public void Enqueue_WhenReportCarriesAFullKey_Refuses()
    {
        using var dir = new TempDirectory();
        Outbox outbox = Open(dir);

        Assert.Throws<InvalidOperationException>(() => outbox.Enqueue(Report(1, "VK7JG-NPHTM-C97JM-9MPGT-3V66T")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(outbox.Directory));
    }

    [Fact]
    public void Enqueue_WhenNotWindows_FilesAreOwnerOnly()
    {
        using var dir = new TempDirectory();
        Outbox outbox = Open(dir);
        OutboxEntry entry = outbox.Enqueue(Report(1));

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(entry.Path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(outbox.Directory));
        }
    }
}
