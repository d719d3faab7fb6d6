using System.ComponentModel.DataAnnotations;

namespace FleetLicense.Web.Features.Scheduling;

/// <summary>
/// The schedules of the cluster's recurring jobs, in one validated place. Intervals are in seconds or minutes;
/// daily jobs take a Quartz cron expression evaluated in UTC. A later feature (the scheduled exports of the
/// Exports issue) adds its schedule here and registers an <see cref="IScheduledJobSetup"/> that reads it.
/// </summary>
public sealed class JobsOptions
{
    public const string SectionName = "Jobs";

    /// <summary>How often alert rules are evaluated (and new alerts sent).</summary>
    [Range(1, 86_400)]
    public int AlertEvaluationSeconds { get; set; } = 120;

    /// <summary>How often due deliveries (webhook and email retries) are attempted.</summary>
    [Range(1, 86_400)]
    public int AlertDeliverySeconds { get; set; } = 30;

    /// <summary>When the daily fleet snapshot is taken (Quartz cron, UTC); it upserts the day's row, so reruns are harmless.</summary>
    [Required]
    [QuartzCron]
    public string FleetSnapshotCron { get; set; } = "0 55 23 * * ?";

    /// <summary>How often machines whose agent went silent are marked stale.</summary>
    [Range(1, 1440)]
    public int StaleAgentMinutes { get; set; } = 60;

    /// <summary>How often raw report partitions are created ahead and dropped past the policy's retention.</summary>
    [Range(1, 1440)]
    public int RawReportPartitionsMinutes { get; set; } = 60;
}

/// <summary>A valid Quartz.NET cron expression (seconds first, e.g. <c>0 55 23 * * ?</c>).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class QuartzCronAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is null || (value is string s && IsCron(s))
            ? ValidationResult.Success
            : new ValidationResult($"'{value}' is not a Quartz cron expression (seconds minutes hours day-of-month month day-of-week, e.g. '0 55 23 * * ?').",
                [validationContext.MemberName ?? ""]);

    private static bool IsCron(string expression)
    {
        try
        {
            _ = new Quartz.CronExpression(expression);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
