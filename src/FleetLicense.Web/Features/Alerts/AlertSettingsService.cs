using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;
using Microsoft.EntityFrameworkCore;

namespace FleetLicense.Web.Features.Alerts;

public sealed record AlertSettingsSnapshot(AlertSettings Settings, DateTimeOffset? UpdatedAt, string UpdatedBy);

/// <summary>Reads and saves the alerting settings (one row; defaults until first saved).</summary>
public sealed class AlertSettingsService(IDbContextFactory<FleetLicenseDbContext> dbFactory, TimeProvider time, Permissions permissions, AuditTrail audit)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<AlertSettingsSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.AlertSettings.AsNoTracking().SingleOrDefaultAsync(s => s.Id == 1, cancellationToken);
        return row is null
            ? new AlertSettingsSnapshot(AlertSettings.Default, null, "default")
            : new AlertSettingsSnapshot((JsonSerializer.Deserialize<AlertSettings>(row.Document, Json) ?? new AlertSettings()).WithDefaults(), row.UpdatedAt, row.UpdatedBy);
    }

    public static IDictionary<string, string[]>? Validate(AlertSettings settings)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(settings, new ValidationContext(settings), results, validateAllProperties: true))
        {
            return null;
        }

        return results
            .SelectMany(r => (r.MemberNames.Any() ? r.MemberNames : [""]).Select(m => (Member: m, r.ErrorMessage)))
            .GroupBy(x => x.Member)
            .ToDictionary(g => g.Key, g => g.Select(x => x.ErrorMessage ?? "Invalid.").ToArray());
    }

    /// <summary>Validates and saves as <paramref name="caller"/> (Admins); returns the validation errors instead when there are any.</summary>
    public async Task<(AlertSettingsSnapshot? Saved, IDictionary<string, string[]>? Errors)> SaveAsync(Caller caller, AlertSettings settings, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.Administer, "change the alert settings");
        if (Validate(settings) is { } errors)
        {
            return (null, errors);
        }

        var normalized = settings.WithDefaults() with
        {
            Rules = settings.WithDefaults().Rules.ToDictionary(r => r.Key, r => r.Value with
            {
                Recipients = [.. (r.Value.Recipients ?? []).Select(x => x.Trim()).Distinct(StringComparer.OrdinalIgnoreCase)],
            }),
        };
        var now = time.GetUtcNow();
        var by = caller.Name;
        var before = await GetAsync(cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var document = JsonSerializer.Serialize(normalized, Json);
        // One statement, so two saves racing end with the last one's settings instead of a key violation.
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO alert_settings (id, document, updated_at, updated_by) VALUES (1, {document}::jsonb, {now}, {by})
            ON CONFLICT (id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at, updated_by = excluded.updated_by
            """, cancellationToken);
        await audit.AppendAsync(db, caller, [new AuditRecord(AuditActions.AlertSettingsSave, "alert settings", before.Settings, normalized)], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (new AlertSettingsSnapshot(normalized, now, by), null);
    }
}
