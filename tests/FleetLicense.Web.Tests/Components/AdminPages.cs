using Bunit;
using FleetLicense.Domain.Rules;
using FleetLicense.Testing;
using FleetLicense.Web.Components;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Enrollment;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Ingestion;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Policy;
using FleetLicense.Web.Features.Scheduling;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MudBlazor;
using Npgsql;
using Quartz;

namespace FleetLicense.Web.Tests.Components;

/// <summary>
/// The real services behind the Flags, KMS hosts and Settings pages, on a clone of the migrated database, plus an
/// unstarted in-memory Quartz scheduler: a re-evaluation request shows up as a trigger on its job.
/// </summary>
internal sealed class AdminPages
{
    private AdminPages(string connectionString, IScheduler scheduler, FakeTimeProvider time, IRenderedComponent<MudDialogProvider> dialogs)
    {
        Dialogs = dialogs;
        ConnectionString = connectionString;
        Scheduler = scheduler;
        Time = time;
    }

    public string ConnectionString { get; }

    /// <summary>Where dialogs render.</summary>
    public IRenderedComponent<MudDialogProvider> Dialogs { get; }

    public IScheduler Scheduler { get; }

    public FakeTimeProvider Time { get; }

    public static async Task<AdminPages> AddAsync(BunitContext context, PostgresFixture postgres, string name, string role = FleetLicense.Web.Features.Accounts.FleetRoles.Admin,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var connectionString = await postgres.CreateDatabaseAsync(name);
        context.AddFeatureServices(connectionString, settings, role);

        var factory = QuartzSchedulerBuilder
            .Create(q => q.ConfigureScheduler(o => o.InstanceName = "bunit-" + Guid.NewGuid().ToString("N")).UseInMemoryStore())
            .Build();
        var scheduler = await factory.GetScheduler();
        await scheduler.AddJob(JobBuilder.Create<ReevaluationJob>().WithIdentity(ReevaluationJob.Key).StoreDurably().Build(), AddJobOptions.Replacing);
        context.Services.AddSingleton<ISchedulerFactory>(factory);
        // Registered with the scheduler in the app (AddScheduling), which bUnit has no host for.
        context.Services.AddSingleton<JobProgressStore>();

        var time = context.AddTestServices();
        var dialogs = context.Render<MudDialogProvider>();
        return new AdminPages(connectionString, scheduler, time, dialogs);
    }

    public FleetLicenseDbContext Db() =>
        new(new DbContextOptionsBuilder<FleetLicenseDbContext>().UseNpgsql(ConnectionString).UseSnakeCaseNamingConvention().Options);

    /// <summary>How many times re-evaluation was requested (the scheduler is not started, so the triggers stay).</summary>
    public async Task<int> ReevaluationRequestsAsync() => (await Scheduler.GetTriggersOfJob(ReevaluationJob.Key)).Count;

    public async Task<Machine> AddMachineAsync(string hostname, string? agentVersion = "1.2.0", DateTimeOffset? lastSeenAt = null, params string[] kmsHosts)
    {
        var now = BunitExtensions.Now;
        var machine = new Machine
        {
            Id = Guid.NewGuid(),
            IdentityKey = "host:" + hostname,
            Hostname = hostname,
            TokenHash = Guid.NewGuid().ToByteArray(),
            TokenIssuedAt = now.AddDays(-30),
            EnrolledAt = now.AddDays(-30),
            AgentVersion = agentVersion,
            Liveness = new MachineLiveness { LastSeenAt = lastSeenAt ?? now.AddMinutes(-5) },
        };
        await using var db = Db();
        db.Machines.Add(machine);
        foreach (var (host, i) in kmsHosts.Select((h, i) => (h, i)))
        {
            db.MachineProducts.Add(new MachineProduct
            {
                MachineId = machine.Id,
                ProductKey = $"product-{i}",
                Name = "Windows(R), Professional edition",
                Kind = "Windows",
                Channel = "KMS",
                KmsHost = host,
                CollectedAt = now,
                Details = "{}",
            });
        }

        await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
        return machine;
    }

    public async Task<Flag> AddFlagAsync(Machine machine, string rule, FindingSeverity severity, FlagStatus status, string title = "A finding")
    {
        var now = BunitExtensions.Now;
        var flag = new Flag
        {
            Id = Guid.NewGuid(),
            MachineId = machine.Id,
            Rule = rule,
            Subject = Guid.NewGuid().ToString(),
            Severity = severity,
            Title = title,
            Message = $"{machine.Hostname} activates against a public KMS emulator.",
            Advice = "Install a genuine key and activate against your own KMS host.",
            Product = "Windows(R), Professional edition",
            Evidence = """{"kmsHost":"kms.digiboy.ir","channel":"KMS"}""",
            Status = status,
            FirstSeenAt = now.AddDays(-3),
            LastSeenAt = now.AddHours(-1),
            StatusChangedAt = now.AddDays(-3),
            StatusBy = "system",
        };
        await using var db = Db();
        db.Flags.Add(flag);
        db.FlagEvents.Add(new FlagEvent { FlagId = flag.Id, At = flag.FirstSeenAt, From = null, To = FlagStatus.Open, Actor = "system", Reason = "Detected." });
        await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
        return flag;
    }

    public async Task<Flag> FlagAsync(Guid id)
    {
        await using var db = Db();
        return await db.Flags.AsNoTracking().SingleAsync(f => f.Id == id, Xunit.TestContext.Current.CancellationToken);
    }
}
