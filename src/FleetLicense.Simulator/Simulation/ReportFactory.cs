using System.Collections.Concurrent;

using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Licensing;
using FleetLicense.Simulator.Fleet;

namespace FleetLicense.Simulator.Simulation;

/// <summary>
/// Builds <see cref="LicenseReportV1"/>s the way the real agent would: the last five characters of each key and its
/// keyed fingerprint (HMAC with the organisation secret from enrolment), never the key itself.
/// </summary>
internal sealed class ReportFactory
{
    /// <summary>What the simulated agents report as their version.</summary>
    public const string AgentVersion = "0.1.0";

    /// <summary>Where KMS38 activations end: the 32-bit time_t overflow.</summary>
    public static readonly DateTimeOffset Kms38End = new(2038, 1, 19, 3, 14, 7, TimeSpan.Zero);

    private const int DefaultKmsPort = 1688;

    private readonly byte[] _fingerprintSecret;
    private readonly ConcurrentDictionary<string, string> _fingerprints = new(StringComparer.Ordinal);

    public ReportFactory(byte[] fingerprintSecret)
    {
        ArgumentNullException.ThrowIfNull(fingerprintSecret);
        if (fingerprintSecret.Length < KeyFingerprint.MinimumSecretLength)
        {
            throw new ArgumentException($"The fingerprint secret must be at least {KeyFingerprint.MinimumSecretLength} bytes.", nameof(fingerprintSecret));
        }

        _fingerprintSecret = fingerprintSecret;
    }

    /// <summary>Reads the base64 secret of an enrolment response.</summary>
    public static ReportFactory FromEnrollment(EnrollResponseV1 enrollment)
    {
        ArgumentNullException.ThrowIfNull(enrollment);
        byte[] secret;
        try
        {
            secret = Convert.FromBase64String(enrollment.FingerprintSecret);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException("The server's fingerprint secret is not base64.", e);
        }

        return new ReportFactory(secret);
    }

    /// <summary>Every report of a machine's history, oldest first.</summary>
    public List<LicenseReportV1> History(MachineTimeline timeline)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        var reports = new List<LicenseReportV1>(timeline.Entries.Count);
        foreach (TimelineEntry entry in timeline.Entries)
        {
            reports.Add(Build(timeline.Machine, entry.Phase, entry.ReportId, entry.CollectedAt));
        }

        return reports;
    }

    /// <summary>One report of <paramref name="machine"/> in <paramref name="phase"/>, collected at <paramref name="collectedAt"/>.</summary>
    public LicenseReportV1 Build(VirtualMachine machine, TimelinePhase phase, Guid reportId, DateTimeOffset collectedAt)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(phase);
        var products = new List<LicensedProductV1>(3);
        foreach (LicenseTemplate licence in phase.Licences.All())
        {
            products.Add(Product(licence, phase, collectedAt));
        }

        return new LicenseReportV1
        {
            ReportId = reportId,
            CollectedAt = collectedAt,
            AgentVersion = AgentVersion,
            Machine = Facts(machine),
            Products = products,
        };
    }

    /// <summary>GracePeriodRemaining of <paramref name="licence"/> at <paramref name="at"/>, in minutes.</summary>
    public static long GraceMinutes(LicenseTemplate licence, TimelinePhase phase, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(licence);
        ArgumentNullException.ThrowIfNull(phase);
        switch (licence.Grace)
        {
            case GraceKind.KmsRenewal:
                {
                    // Counts down from the validity and resets to it at every renewal.
                    long sinceAnchor = (long)Math.Max(0, (at - phase.KmsAnchor).TotalMinutes);
                    long sinceRenewal = sinceAnchor % (long)MachineTimeline.KmsRenewalInterval.TotalMinutes;
                    return licence.KmsValidityMinutes - sinceRenewal;
                }

            case GraceKind.Deadline when phase.GraceDeadline is { } deadline:
                return Math.Max(1, (long)(deadline - at).TotalMinutes);
            case GraceKind.Kms38:
                return (long)(Kms38End - at).TotalMinutes;
            default:
                return 0;
        }
    }

    private LicensedProductV1 Product(LicenseTemplate licence, TimelinePhase phase, DateTimeOffset at)
    {
        ChannelInfo channel = ChannelParser.FromProductKeyChannel(licence.ChannelRaw);
        bool kmsClient = licence.IsKmsClient;
        return new LicensedProductV1
        {
            Name = licence.Name,
            Description = licence.Description,
            Kind = licence.Kind,
            ApplicationId = licence.ApplicationId,
            ActivationId = licence.ActivationId,
            LicenseFamily = licence.LicenseFamily,
            IsAddon = licence.IsAddon,
            Channel = channel.Channel,
            ChannelDetail = channel.Detail,
            ChannelRaw = channel.Raw,
            PartialKey = PartialKey.Of(licence.FullKey),
            KeyFingerprint = Fingerprint(licence.FullKey),
            ProductKeyId = licence.ProductKeyId,
            LicenseStatusCode = (int)licence.Status,
            LicenseStatus = licence.Status,
            LicenseStatusReason = licence.Reason,
            GraceMinutes = GraceMinutes(licence, phase, at),
            KmsHost = licence.KmsHost,
            KmsPort = licence.KmsHost is null ? null : DefaultKmsPort,
            DiscoveredKmsHost = licence.DiscoveredKmsHost,
            DiscoveredKmsPort = licence.DiscoveredKmsHost is null ? null : DefaultKmsPort,
            DiscoveredKmsIpAddress = licence.DiscoveredKmsIpAddress,
            ActivationIntervalMinutes = kmsClient ? 120 : null,
            RenewalIntervalMinutes = kmsClient ? 10080 : null,
            IsKmsHost = kmsClient ? false : null,
        };
    }

    private MachineFactsV1 Facts(VirtualMachine machine) =>
        new()
        {
            Hostname = machine.Hostname,
            SmbiosUuid = machine.SmbiosUuid,
            SerialNumber = machine.SerialNumber,
            Manufacturer = machine.Manufacturer,
            Model = machine.Model,
            ChassisTypes = machine.ChassisTypes,
            PcSystemType = machine.PcSystemType,
            JoinType = machine.JoinType,
            DomainName = machine.DomainName,
            OsName = machine.OsName,
            EditionId = machine.EditionId,
            OsBuild = machine.OsBuild,
            FirmwareKey = machine.FirmwareKey is { } firmware
                ? new FirmwareKeyV1
                {
                    Edition = firmware.Edition,
                    Description = firmware.Description,
                    PartialKey = PartialKey.Of(firmware.FullKey),
                    Fingerprint = Fingerprint(firmware.FullKey),
                }
                : null,
        };

    private string Fingerprint(string fullKey) =>
        _fingerprints.GetOrAdd(fullKey, static (key, secret) => KeyFingerprint.Compute(key, secret), _fingerprintSecret);
}
