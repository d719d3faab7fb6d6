namespace FleetLicense.Web.Features.Ingestion;

/// <summary>The answer a quarantined machine gets, to its reports and to its enrolments alike.</summary>
public static class DeviceProblems
{
    /// <summary>The problem type agents (and people) can match on.</summary>
    public const string QuarantinedType = "https://fleetlicense.dev/problems/quarantined";

    public static IResult Quarantined() => TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, type: QuarantinedType,
        title: "The machine is quarantined.",
        detail: "An administrator quarantined this machine: its reports and enrolments are refused until they release it on the Agents page.");
}
