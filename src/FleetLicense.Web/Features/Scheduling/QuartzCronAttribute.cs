using System.ComponentModel.DataAnnotations;

namespace FleetLicense.Web.Features.Scheduling;

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
