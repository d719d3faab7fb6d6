using System.Text.Json;
using System.Text.Json.Nodes;
using FleetLicense.Contracts;
using FleetLicense.Web.Features.Enrollment;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Policy;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace FleetLicense.Web.Infrastructure;

/// <summary>Request and response examples for the OpenAPI document, by operation id.</summary>
internal static class OpenApiExamples
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolverChain = { FleetLicenseJsonContext.Default, new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() },
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private static readonly DateTimeOffset At = new(2026, 11, 28, 9, 30, 0, TimeSpan.Zero);

    public static readonly LicenseReportV1 Report = new()
    {
        ReportId = Guid.Parse("6f1c2a4e-7b1d-4a5b-9c2d-3e4f5a6b7c8d"),
        CollectedAt = At,
        AgentVersion = "0.1.0",
        Machine = new MachineFactsV1
        {
            Hostname = "LAPTOP-7QK2M",
            SmbiosUuid = "4C4C4544-0042-3510-8052-B4C04F4B4E32",
            SerialNumber = "5BRQKN2",
            Manufacturer = "Dell Inc.",
            Model = "Latitude 7440",
            ChassisTypes = [10],
            PcSystemType = 2,
            JoinType = DirectoryJoinType.Domain,
            DomainName = "corp.example",
            OsName = "Microsoft Windows 11 Pro",
            EditionId = "Professional",
            OsBuild = "22631",
            FirmwareKey = new FirmwareKeyV1 { Edition = "Professional", Description = "[4.0] Professional OEM:DM", PartialKey = "8HVX7", Fingerprint = "9f2c4e1a7b3d5f6080a1c3e5f7092b4d6f8a1c3e5b7d9f0a2c4e6b8d0f1a3c5e" },
        },
        Products =
        [
            new LicensedProductV1
            {
                Name = "Windows(R), Professional edition",
                Description = "Windows(R) Operating System, VOLUME_KMSCLIENT channel",
                Kind = ProductKind.Windows,
                ApplicationId = "55c92734-d682-4d71-983e-d6ec3f16059f",
                ActivationId = "2de67392-b7a7-462a-b1ca-108dd189f588",
                LicenseFamily = "Professional",
                Channel = LicenseChannel.KMS,
                ChannelRaw = "Volume:GVLK",
                PartialKey = "T83GX",
                KeyFingerprint = "4b1e07c9d2a86f35e1c0b9a8d7f6e5c4b3a29180f7e6d5c4b3a2918070f6e5d4",
                LicenseStatusCode = 1,
                LicenseStatus = LicenseStatus.Licensed,
                GraceMinutes = 259_100,
                KmsHost = "kms01.corp.example",
                KmsPort = 1688,
                ActivationIntervalMinutes = 120,
                RenewalIntervalMinutes = 10_080,
            },
        ],
    };

    private static readonly Dictionary<string, (object? Request, object? Response)> Examples = new()
    {
        ["PostReport"] = (Report, new ReportAckV1 { ReportId = Report.ReportId }),
        ["PostReportBatch"] = (new ReportBatchV1 { Reports = [Report] }, new ReportBatchAckV1 { Results = [new ReportAckV1 { ReportId = Report.ReportId }] }),
        ["EnrollAgent"] = (
            new EnrollRequestV1 { EnrollmentSecret = "fle_Xk9…", Hostname = "LAPTOP-7QK2M", SmbiosUuid = "4C4C4544-0042-3510-8052-B4C04F4B4E32", SerialNumber = "5BRQKN2", AgentVersion = "0.1.0" },
            new EnrollResponseV1 { MachineId = Guid.Parse("01a224fa-8b9d-77da-8906-e417574fbcf2"), DeviceToken = "fld_…(shown once)", FingerprintSecret = "kOqgNJF6…=" }),
        ["CreateEnrollmentSecret"] = (new CreateEnrollmentSecretRequest("Berlin office laptops", At.AddDays(30), 500), null),
        ["AcknowledgeFlag"] = (new FlagActionRequest("Ticket INC-4711", null), null),
        ["WaiveFlag"] = (new FlagActionRequest("Lab machine, reimaged next week", At.AddDays(7)), null),
        ["ReopenFlag"] = (new FlagActionRequest("Waived by mistake", null), null),
        ["BulkFlagAction"] = (new BulkFlagActionRequest([Guid.Parse("01a224fa-9b4b-7c3e-a0e6-9f867d2b3221")], "acknowledge", "Reviewed in the weekly audit", null), null),
        ["UpdateAlertSettings"] = (new Features.Alerts.UpdateAlertSettingsRequest(Features.Alerts.AlertSettings.Default), null),
        ["SendAlertTest"] = (new Features.Alerts.TestSendRequest("it-licensing@corp.example"), null),
        ["CreateApiToken"] = (
            new Features.Accounts.CreateApiTokenRequest("nightly inventory script", Features.Accounts.FleetRoles.Viewer, At.AddDays(90)),
            new Features.Accounts.IssuedApiToken(Guid.Parse("01a224fa-a1c2-7d4e-9f10-3b5c7d9e1f20"), "nightly inventory script", "flt_Qm3…", Features.Accounts.FleetRoles.Viewer, At.AddDays(90), "flt_…(shown once)")),
        ["CreateExport"] = (new Features.Exports.ExportRequest(Features.Exports.ExportReports.Inventory, Features.Exports.ExportFormats.Csv, "?status=0,5&channel=KMS", ByteOrderMark: true), null),
        ["CreateExportSchedule"] = (new Features.Exports.ExportScheduleRequest("Monthly inventory", "0 0 6 1 * ?", Features.Exports.ExportReports.Inventory,
            Features.Exports.ExportFormats.Xlsx, "?status=0,5", "audit@corp.example, it-licensing@corp.example"), null),
        ["UpdatePolicy"] = (new UpdatePolicyRequest(new FleetPolicy { Detection = new Domain.Rules.DetectionPolicy { KmsAllowlist = ["kms01.corp.example", "*.kms.corp.example"] } }, "Our two KMS hosts"), null),
    };

    public static Task AddAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (operation.OperationId is not { } id || !Examples.TryGetValue(id, out var example))
        {
            return Task.CompletedTask;
        }

        if (example.Request is not null && operation.RequestBody?.Content?.TryGetValue("application/json", out var request) == true)
        {
            request.Example = JsonSerializer.SerializeToNode(example.Request, example.Request.GetType(), Json);
        }

        if (example.Response is not null && operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content?.TryGetValue("application/json", out var response) == true)
        {
            response.Example = JsonSerializer.SerializeToNode(example.Response, example.Response.GetType(), Json);
        }

        return Task.CompletedTask;
    }
}
