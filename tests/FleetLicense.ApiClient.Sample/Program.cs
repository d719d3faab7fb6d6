// What a third-party client does with the API, through nothing but the client Kiota generated from the OpenAPI
// document (into Generated/, see KiotaClientTests): an Admin's API token makes an enrolment secret, a machine enrols
// with it and reports, the report's flag is found and waived. Each step prints "<step> <value>" for the test.
using FleetLicense.ApiClient;
using FleetLicense.ApiClient.Models;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Http.HttpClientLibrary;

if (args is not [var baseUrl, var apiToken])
{
    Console.Error.WriteLine("usage: FleetLicense.ApiClient.Sample <server address> <API token flt_…>");
    return 2;
}

try
{
    return await RunAsync(baseUrl, apiToken);
}
catch (ApiException problem) when (problem is IParsable parsable)
{
    // The problem details the server answered, as the generated model read them.
    Console.Error.WriteLine($"{problem.ResponseStatusCode} {problem.GetType().Name}: {await KiotaJsonSerializer.SerializeAsStringAsync(parsable)}");
    return 1;
}

static async Task<int> RunAsync(string baseUrl, string apiToken)
{
    using var http = new HttpClient();
    FleetLicenseClient Client(string? bearer) =>
        new(new HttpClientRequestAdapter(bearer is null ? new AnonymousAuthenticationProvider() : new Bearer(bearer), httpClient: http) { BaseUrl = baseUrl.TrimEnd('/') });

    var admin = Client(apiToken);
    var secret = await admin.Api.V1.Admin.EnrollmentSecrets.PostAsync(new CreateEnrollmentSecretRequest { Name = "Generated client", MaxUses = 1 });
    Console.WriteLine($"secret {secret!.Id}");

    // Enrolment is anonymous: the secret in the body is the credential.
    var hostname = "KIOTA-" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
    var enrolled = await Client(null).Api.V1.Agents.Enroll.PostAsync(new EnrollRequestV1
    {
        EnrollmentSecret = secret.Secret,
        Hostname = hostname,
        SmbiosUuid = Guid.NewGuid().ToString().ToUpperInvariant(),
        AgentVersion = "0.1.0",
    });
    Console.WriteLine($"machine {enrolled!.MachineId}");

    // A Windows licence activated against a public KMS emulator: the projector raises a flag for it.
    var ack = await Client(enrolled.DeviceToken).Api.V1.Reports.PostAsync(new LicenseReportV1
    {
        SchemaVersion = 1,
        ReportId = Guid.NewGuid(),
        CollectedAt = DateTimeOffset.UtcNow.AddMinutes(-1),
        AgentVersion = "0.1.0",
        Machine = new MachineFactsV1 { Hostname = hostname, EditionId = "Professional", JoinType = DirectoryJoinType.Domain },
        Products =
        [
            new LicensedProductV1
            {
                Name = "Windows(R), Professional edition",
                Kind = ProductKind.Windows,
                ApplicationId = "55c92734-d682-4d71-983e-d6ec3f16059f",
                ActivationId = "2de67392-b7a7-462a-b1ca-108dd189f588",
                Channel = LicenseChannel.KMS,
                ChannelRaw = "Volume:GVLK",
                PartialKey = "T83GX",
                LicenseStatusCode = 1,
                LicenseStatus = LicenseStatus.Licensed,
                GraceMinutes = 250_000,
                KmsHost = "kms.digiboy.ir",
            },
        ],
    });
    Console.WriteLine($"report {ack!.ReportId}");

    // Reports are projected after they are stored: ask until the flag is there, within a deadline.
    FlagView? flag = null;
    for (var deadline = DateTimeOffset.UtcNow.AddSeconds(30); flag is null; await Task.Delay(100))
    {
        var page = await admin.Api.V1.Admin.Flags.GetAsync(q => q.QueryParameters.MachineId = enrolled.MachineId);
        flag = page?.Items?.FirstOrDefault(f => f.Rule == "kms-public-emulator");
        if (flag is null && DateTimeOffset.UtcNow > deadline)
        {
            Console.Error.WriteLine("no kms-public-emulator flag within 30 s");
            return 1;
        }
    }

    Console.WriteLine($"flag {flag.Id} {flag.Status}");

    var waived = await admin.Api.V1.Admin.Flags[flag.Id!.Value].Waive.PostAsync(new FlagActionRequest { Reason = "Lab machine (generated client)", Until = DateTimeOffset.UtcNow.AddDays(7) });
    Console.WriteLine($"waived {waived!.Flag!.Id} {waived.Flag.Status}");
    return 0;
}

/// <summary>Authorization: Bearer with a fixed token (an API token or a device token).</summary>
internal sealed class Bearer(string token) : IAuthenticationProvider
{
    public Task AuthenticateRequestAsync(RequestInformation request, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default)
    {
        request.Headers.Add("Authorization", "Bearer " + token);
        return Task.CompletedTask;
    }
}
