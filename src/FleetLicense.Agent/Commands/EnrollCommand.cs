using System.Globalization;

using FleetLicense.Agent.Collection;
using FleetLicense.Agent.Storage;
using FleetLicense.Agent.Upload;
using FleetLicense.Contracts;

namespace FleetLicense.Agent.Commands;

/// <summary><c>enroll</c>: enrols this machine and stores the device token protected.</summary>
internal sealed class EnrollCommand : Command
{
    private const string Help = $"""
        Usage: fleetlicense-agent enroll --server URL --secret SECRET [--data-dir DIR] [--from-recording FILE]

        Enrols this machine: sends the enrolment secret with the machine's name, SMBIOS UUID and serial
        number, and stores the answer in DIR: the device token and the organisation's fingerprint secret
        protected (DPAPI on Windows, owner-only files elsewhere), the server and machine id in config.json.
        Enrolling again rotates the token (and lifts a "token rejected" stop): with the token this machine
        holds at once, without it (a reinstalled machine, a revoked token) once an administrator approves the
        re-enrolment on Settings → Agents; run enroll again then. Run it elevated on Windows.

        Options:
          --server URL           The FleetLicense server, e.g. https://fleetlicense.corp.example (plain http
                                 only to this machine: localhost, 127.0.0.0/8, ::1).
          --secret SECRET        The enrolment secret (or set FLEETLICENSE_ENROLLMENT_SECRET).
        {DataDirHelp}
        {RecordingHelp}
        Exit codes: 0 enrolled, 2 bad usage (a plain-http URL to another machine too), 3 secret rejected (or the machine
        quarantined, the re-enrolment rejected), 4 server unreachable or failing, 6 needs Windows (or --from-recording),
        7 waiting for an administrator's approval.
        """;

    public override string Name => "enroll";

    public override string Usage => Help;

    public override OptionSet Options { get; } = new OptionSet("enroll")
        .Value("--server").Value("--secret").Value("--data-dir").Value("--from-recording");

    public override async Task<int> RunAsync(ParsedOptions options, CommandContext context)
    {
        Uri server = Server(options.Value("--server"));
        string? secret = options.Value("--secret") ?? Environment.GetEnvironmentVariable("FLEETLICENSE_ENROLLMENT_SECRET");
        if (string.IsNullOrWhiteSpace(secret))
        {
            throw CommandException.Usage("enroll: expected --secret SECRET (or FLEETLICENSE_ENROLLMENT_SECRET)");
        }

        (ILicensingSource wmi, IRegistrySource registry) = Sources.Open(options.Value("--from-recording"));
        TimeProvider time = TimeProvider.System;
        CollectedMachine machine = new ReportCollector(wmi, registry, time).Read();
        MachineFactsV1 facts = machine.State.Machine;
        string hostname = facts.Hostname ?? Environment.MachineName;

        using HttpClient http = AgentApiClient.CreateHttpClient();
        var api = new AgentApiClient(http, server, time);
        AgentStore store = AgentStore.Open(options.Value("--data-dir"));
        string nonce = store.PendingNonce();
        ApiResult<EnrollResponseV1> result = await api.EnrollAsync(
            new EnrollRequestV1
            {
                EnrollmentSecret = secret.Trim(),
                Hostname = hostname,
                SmbiosUuid = facts.SmbiosUuid,
                SerialNumber = facts.SerialNumber,
                AgentVersion = CommandLine.AgentVersion,
                PendingNonce = nonce,
            },
            store.TokenFor(api.Server),
            context.Cancel).ConfigureAwait(false);
        switch (result.Outcome)
        {
            case ApiOutcome.Ok:
                break;
            case ApiOutcome.Pending:
                store.KeepPendingNonce(nonce);
                throw new CommandException(ExitCodes.PendingApproval,
                    $"the server knows this machine already and holds the re-enrolment for an administrator's approval (Settings → Agents); run enroll again once it is approved: {result.Message}");
            case ApiOutcome.Unauthorized:
                throw new CommandException(ExitCodes.Unauthorized, $"the server refused the enrolment (an unknown, expired or revoked secret, a quarantined machine or a rejected re-enrolment): {result.Message}");
            case ApiOutcome.Rejected:
                throw CommandException.Usage($"the server refused the enrolment: {result.Message}");
            default:
                throw new CommandException(ExitCodes.Unavailable, $"enrolment failed: {result.Message}");
        }

        EnrollResponseV1 answer = result.Value!;
        byte[] fingerprintSecret;
        try
        {
            fingerprintSecret = Convert.FromBase64String(answer.FingerprintSecret);
        }
        catch (FormatException)
        {
            throw new CommandException(ExitCodes.Failure, "the server's fingerprint secret is not base64; nothing was stored");
        }

        var config = new AgentConfig
        {
            Server = api.Server,
            MachineId = answer.MachineId,
            Hostname = hostname,
            ReportIntervalMinutes = answer.ReportIntervalMinutes > 0 ? answer.ReportIntervalMinutes : 240,
            EnrolledAt = time.GetUtcNow(),
        };
        store.SaveEnrolment(config, answer.DeviceToken, fingerprintSecret);
        await context.WriteLineAsync(
            string.Create(CultureInfo.InvariantCulture, $"Enrolled {hostname} with {api.Server} as machine {answer.MachineId}; reports every {config.ReportIntervalMinutes} minutes.\nDevice token stored in {store.TokenPath} ({store.ProtectionDescription}).")).ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
