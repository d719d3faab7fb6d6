using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace FleetLicense.Web.Features.Exports;

public enum ExportState
{
    /// <summary>Asked for, waiting for a node of the cluster to write it.</summary>
    Queued,

    /// <summary>Being written by <see cref="Export.Node"/>: its file is not offered.</summary>
    Running,

    /// <summary>Written, digested and signed: the file is offered for download and verifies.</summary>
    Done,

    /// <summary>Stopped by an error or a cancel; whatever was written is gone.</summary>
    Failed,

    /// <summary>Done, and its file deleted after the retention period; the record, digest and signature stay, so a kept copy still verifies.</summary>
    Expired,
}

/// <summary>
/// One export: who asked for which report with which filters, and once it is done the file's row count, size,
/// SHA-256 and the server's signature of that digest. The file itself is in <see cref="ExportChunk"/>s, so every
/// node can serve it.
/// </summary>
public sealed class Export
{
    public long Id { get; set; }

    /// <summary>A name of <see cref="ExportReports"/>.</summary>
    public required string Report { get; set; }

    /// <summary>A name of <see cref="ExportFormats"/>.</summary>
    public required string Format { get; set; }

    /// <summary>The machine grid's query string the report was filtered by ("?status=0,5&amp;channel=KMS"); empty: the whole fleet.</summary>
    public required string Filters { get; set; }

    /// <summary>The instant the report was rebuilt at from history; null: the live state at <see cref="StartedAt"/>.</summary>
    public DateTimeOffset? AsOf { get; set; }

    public required string RequestedBy { get; set; }

    public Guid? RequestedById { get; set; }

    public DateTimeOffset RequestedAt { get; set; }

    /// <summary>When a node started writing it (again, after a restart): a live report is the state at this instant.</summary>
    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public ExportState State { get; set; }

    public long? RowCount { get; set; }

    public long? SizeBytes { get; set; }

    public byte[]? Sha256 { get; set; }

    public int? SigningKeyId { get; set; }

    /// <summary>The DER (RFC 3279) ECDSA signature of <see cref="Sha256"/>: the <c>.sig</c> file <c>openssl dgst -verify</c> reads.</summary>
    public byte[]? Signature { get; set; }

    /// <summary>Why it failed, in words for the person who asked.</summary>
    public string? Error { get; set; }

    /// <summary>Start a CSV file with the UTF-8 byte order mark.</summary>
    public bool ByteOrderMark { get; set; }

    /// <summary>The node writing it; with <see cref="HeartbeatAt"/>, how another node knows a run was lost.</summary>
    public string? Node { get; set; }

    /// <summary>Written every few seconds while it runs (<see cref="ExportRunner.Heartbeat"/>); a run that stops beating is taken over.</summary>
    public DateTimeOffset? HeartbeatAt { get; set; }

    /// <summary>How many times a node started writing it: a run is owned by its attempt, and one that keeps dying fails.</summary>
    public int Attempts { get; set; }

    /// <summary>Rows written so far, as of the last heartbeat.</summary>
    public long RowsDone { get; set; }

    /// <summary>Rows the report was counted to have when it started (null: not counted), for a percentage.</summary>
    public long? RowsExpected { get; set; }

    /// <summary>The schedule that queued it (<see cref="ExportSchedule"/>); null: someone asked.</summary>
    public long? ScheduleId { get; set; }

    /// <summary>Who asked to cancel it; the running node stops at its next heartbeat.</summary>
    public string? CancelledBy { get; set; }

    /// <summary>The download's file name: report, export number and extension.</summary>
    public string FileName => FileNameOf(Report, Id, Format);

    public static string FileNameOf(string report, long id, string format) => $"fleetlicense-{report}-{id}.{format}";
}

/// <summary>A piece of an export's file, in order of <see cref="Seq"/>.</summary>
public sealed class ExportChunk
{
    public long ExportId { get; set; }

    public int Seq { get; set; }

    public required byte[] Data { get; set; }
}

internal sealed class ExportConfiguration : IEntityTypeConfiguration<Export>
{
    public void Configure(EntityTypeBuilder<Export> builder)
    {
        builder.ToTable("exports");
        builder.Property(e => e.State).HasConversion<string>();
        builder.HasIndex(e => e.Sha256);
        builder.HasIndex(e => e.StartedAt);
        // What the runners claim from: the few exports waiting or running.
        builder.HasIndex(e => e.Id).HasFilter("state IN ('Queued', 'Running')").HasDatabaseName("ix_exports_unfinished");
        builder.Ignore(e => e.FileName);
        builder.HasOne<ExportSchedule>().WithMany().HasForeignKey(e => e.ScheduleId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class ExportChunkConfiguration : IEntityTypeConfiguration<ExportChunk>
{
    public void Configure(EntityTypeBuilder<ExportChunk> builder)
    {
        builder.ToTable("export_chunks");
        builder.HasKey(c => new { c.ExportId, c.Seq });
        builder.HasOne<Export>().WithMany().HasForeignKey(c => c.ExportId).OnDelete(DeleteBehavior.Cascade);
    }
}
