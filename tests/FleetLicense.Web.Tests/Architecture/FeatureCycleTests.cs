using System.Text;

namespace FleetLicense.Web.Tests.Architecture;

/// <summary>
/// Feature folders are boundaries: one may use another, but never in a cycle (A uses B uses A). There are no
/// exceptions: a cycle is broken by moving the shared type to the domain or to the feature that owns the concept, or
/// by letting the using side declare what it needs and the owner provide it (Machines' <c>IMachineFindings</c>,
/// implemented by Flags).
/// </summary>
public sealed class FeatureCycleTests
{
    private static readonly Lazy<Dictionary<string, Dictionary<string, List<string>>>> Graph =
        new(() => FeatureGraph.Build(typeof(Program).Assembly));

    [Fact]
    public void FeatureFolders_WhenTheirDependenciesAreTraced_FormNoCycle()
    {
        var edges = Graph.Value.ToDictionary(
            f => f.Key,
            f => (IReadOnlySet<string>)f.Value.Keys.ToHashSet(StringComparer.Ordinal),
            StringComparer.Ordinal);

        var cycles = FeatureGraph.FindCycles(edges);

        Assert.True(cycles.Count == 0, Describe(cycles));
    }

    [Fact]
    public void Graph_OfTheApp_SeesDependenciesInSignaturesAndInMethodBodies()
    {
        var graph = Graph.Value;

        Assert.True(graph.Count >= 10, $"{graph.Count} features found");
        // A constructor parameter: the raw report partitions read the retention from the policy.
        Assert.Contains("RawReportPartitions", graph["Ingestion"]["Policy"]);
        // Only in a method body (a static field initialiser): the re-evaluation job takes its key from the policy.
        Assert.Contains("ReevaluationJob", graph["Flags"]["Policy"]);
    }

    [Fact]
    public void FindCycles_OnAGraphWithACycle_NamesItFromItsFirstFeature()
    {
        var cycles = FeatureGraph.FindCycles(Edges(("B", "C"), ("A", "B"), ("C", "A"), ("C", "D"), ("D", "E")));

        Assert.Equal(["A → B → C → A"], cycles);
    }

    [Fact]
    public void FindCycles_OnTwoSeparateCycles_NamesTheShortestThroughEachFeature()
    {
        var cycles = FeatureGraph.FindCycles(Edges(("Flags", "Policy"), ("Policy", "Flags"), ("X", "Y"), ("Y", "Z"), ("Z", "X"), ("Y", "X")));

        // Z's shortest cycle is not X's: both are named, each from its first feature.
        Assert.Equal(["Flags → Policy → Flags", "X → Y → X", "X → Y → Z → X"], cycles);
    }

    [Fact]
    public void FindCycles_OnALayeredGraphOrASelfReference_FindsNone()
    {
        var cycles = FeatureGraph.FindCycles(Edges(("A", "B"), ("A", "C"), ("B", "C"), ("C", "D"), ("D", "D")));

        Assert.Empty(cycles);
    }

    private static Dictionary<string, IReadOnlySet<string>> Edges(params (string From, string To)[] edges) =>
        edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => (IReadOnlySet<string>)g.Select(e => e.To).ToHashSet(), StringComparer.Ordinal);

    private static string Describe(List<string> cycles)
    {
        var text = new StringBuilder($"Feature folders depend on each other in {cycles.Count} cycle(s). Move the shared type to the domain or to the feature that owns the concept, or let the using side declare what it needs and the owner implement it:");
        foreach (var cycle in cycles)
        {
            text.AppendLine().Append("  ").Append(cycle);
            var steps = cycle.Split(" → ");
            foreach (var (from, to) in steps.Zip(steps.Skip(1)))
            {
                text.AppendLine().Append("    ").Append(from).Append(" → ").Append(to).Append(": ").Append(string.Join(", ", Graph.Value[from][to].Take(5)));
            }
        }

        return text.ToString();
    }
}
