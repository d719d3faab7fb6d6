using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CsvHelper;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Exports;

namespace FleetLicense.Web.Tests.Exports;

/// <summary>What the export tests share: the API's JSON, verifying a file through the API, and reading a CSV back.</summary>
internal static class ExportFiles
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    /// <summary>Queues an export through the API (202, with its address) and waits for a node to finish it; returns it as the API then lists it.</summary>
    public static async Task<ExportSummary> CreateAsync(HttpClient client, object request)
    {
        using var created = await client.PostAsJsonAsync("/api/v1/exports", request, Json, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var queued = (await created.Content.ReadFromJsonAsync<ExportSummary>(Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(($"/api/v1/exports/{queued.Id}", ExportState.Queued), (created.Headers.Location?.OriginalString, queued.State));
        return await FinishedAsync(client, queued.Id);
    }

    /// <summary>Export <paramref name="id"/> once it is no longer queued or running.</summary>
    public static Task<ExportSummary> FinishedAsync(HttpClient client, long id) =>
        Eventually.GetAsync(
            async () => (await client.GetFromJsonAsync<ExportSummary>(new Uri($"/api/v1/exports/{id}", UriKind.Relative), Json, TestContext.Current.CancellationToken))!,
            e => e.State is not (ExportState.Queued or ExportState.Running), TimeSpan.FromSeconds(60), $"export {id} to finish");

    public static async Task<ExportVerification> VerifyAsync(HttpClient client, byte[] file)
    {
        using var body = new ByteArrayContent(file);
        body.Headers.ContentType = new("application/octet-stream");
        using var response = await client.PostAsync(new Uri("/api/v1/exports/verify", UriKind.Relative), body, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ExportVerification>(Json, TestContext.Current.CancellationToken))!;
    }

    /// <summary>A CSV export read back with CsvHelper, a dictionary per line by column name; its header must be <paramref name="columns"/>.</summary>
    public static List<Dictionary<string, string>> ReadCsv(byte[] file, IReadOnlyList<string> columns)
    {
        using var reader = new StreamReader(new MemoryStream(file));
        using var csv = new CsvReader(reader, CultureInfo.InvariantCulture);
        csv.Read();
        csv.ReadHeader();
        Assert.Equal(columns, csv.HeaderRecord);
        var rows = new List<Dictionary<string, string>>();
        while (csv.Read())
        {
            rows.Add(columns.ToDictionary(c => c, c => csv.GetField(c) ?? ""));
        }

        return rows;
    }
}
