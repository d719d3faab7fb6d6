using System.Globalization;

using FleetLicense.Contracts;
using FleetLicense.Simulator.Fleet;
using FleetLicense.Simulator.Simulation;

namespace FleetLicense.Simulator.Http;

/// <summary>Creates an enrolment secret and enrols virtual machines, in parallel with bounded concurrency.</summary>
internal static class FleetEnroller
{
    /// <summary>Creates a short-lived secret for one simulator run, allowing each machine to enrol (with room for retries).</summary>
    public static async Task<string> CreateSecretAsync(FleetApiClient api, string adminToken, string purpose, int machines, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(time);
        DateTimeOffset now = time.GetUtcNow();
        var request = new CreateEnrollmentSecretRequest(
            string.Create(CultureInfo.InvariantCulture, $"simulator {purpose} {now:yyyy-MM-dd HH:mm:ss}Z"),
            now.AddHours(6),
            Math.Max(1, machines * 2));
        EnrollmentSecretResponse created = await api.CreateEnrollmentSecretAsync(adminToken, request, cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrEmpty(created.Secret))
        {
            throw new ApiException("could not create an enrolment secret: the server's answer has no secret");
        }

        return created.Secret;
    }

    /// <summary>Enrols every machine; results are in machine order. The first failure stops the rest and is thrown.</summary>
    public static async Task<EnrollResponseV1[]> EnrollAllAsync(
        FleetApiClient api,
        string enrollmentSecret,
        IReadOnlyList<VirtualMachine> machines,
        int concurrency,
        Action onEnrolled,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(machines);
        ArgumentNullException.ThrowIfNull(onEnrolled);
        var results = new EnrollResponseV1[machines.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, machines.Count), options, async (i, token) =>
        {
            VirtualMachine machine = machines[i];
            var request = new EnrollRequestV1
            {
                EnrollmentSecret = enrollmentSecret,
                Hostname = machine.Hostname,
                SmbiosUuid = machine.SmbiosUuid,
                SerialNumber = machine.SerialNumber,
                AgentVersion = ReportFactory.AgentVersion,
            };
            results[i] = await api.EnrollWithRetryAsync(request, token).ConfigureAwait(false);
            onEnrolled();
        }).ConfigureAwait(false);
        return results;
    }
}
