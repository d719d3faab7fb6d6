using System.Reflection;
using NetArchTest.Rules;

namespace FleetLicense.Web.Tests.Architecture;

/// <summary>
/// Which feature folder (<c>FleetLicense.Web.Features.X</c>) uses which: an edge X → Y when a type of X, or a
/// type the compiler generated inside it (lambdas, async state machines), refers to a type of Y in a field,
/// property, signature, attribute or method body (NetArchTest reads the IL with Mono.Cecil).
/// </summary>
internal static class FeatureGraph
{
    public const string Prefix = "FleetLicense.Web.Features.";

    /// <summary>Feature → the features it uses → the types that use them (the evidence a failure shows).</summary>
    public static Dictionary<string, Dictionary<string, List<string>>> Build(Assembly assembly)
    {
        var features = assembly.GetTypes()
            .Select(t => t.Namespace)
            .Where(ns => ns is not null && ns.StartsWith(Prefix, StringComparison.Ordinal))
            .Select(ns => ns![Prefix.Length..].Split('.')[0])
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
        // NetArchTest matches namespaces by prefix: a feature named like the start of another would blur the two.
        var blurred = features.Where(a => features.Any(b => b != a && b.StartsWith(a, StringComparison.Ordinal))).ToList();
        if (blurred.Count > 0)
        {
            throw new InvalidOperationException($"Feature names that start another feature's name: {string.Join(", ", blurred)}; rename one.");
        }

        var types = Types.InAssembly(assembly);
        var graph = features.ToDictionary(f => f, _ => new Dictionary<string, List<string>>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var from in features)
        {
            foreach (var to in features.Where(f => f != from))
            {
                var users = types.That().ResideInNamespace(Prefix + from).And().HaveDependencyOn(Prefix + to).GetTypes()
                    .Where(t => t.FullName!.StartsWith(Prefix + from + ".", StringComparison.Ordinal))
                    .Select(t => t.FullName![(Prefix.Length + from.Length + 1)..])
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (users.Count > 0)
                {
                    graph[from][to] = users;
                }
            }
        }

        return graph;
    }

    /// <summary>
    /// The cycles among features, each written <c>A → B → A</c> from its first feature by name: for every feature
    /// caught in a group that reach each other (a strongly connected component), the shortest cycle through it.
    /// Empty when the graph has none.
    /// </summary>
    public static List<string> FindCycles(IReadOnlyDictionary<string, IReadOnlySet<string>> edges)
    {
        var cycles = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var component in StronglyConnected(edges).Where(c => c.Count > 1))
        {
            foreach (var start in component)
            {
                var cycle = ShortestCycle(edges, start, component);
                // The same cycle found from another of its features: write it from its first feature by name.
                var first = cycle.SkipLast(1).Min(StringComparer.Ordinal)!;
                var at = cycle.IndexOf(first);
                cycles.Add(string.Join(" → ", cycle.Skip(at).Concat(cycle.Skip(1).Take(at))));
            }
        }

        return [.. cycles];
    }

    /// <summary>Tarjan's algorithm: the sets of nodes that can each reach every other node of the set.</summary>
    private static List<HashSet<string>> StronglyConnected(IReadOnlyDictionary<string, IReadOnlySet<string>> edges)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var components = new List<HashSet<string>>();
        var nodes = edges.Keys.Concat(edges.Values.SelectMany(v => v)).Distinct().Order(StringComparer.Ordinal).ToList();

        void Visit(string node)
        {
            index[node] = low[node] = index.Count;
            stack.Push(node);
            onStack.Add(node);
            foreach (var next in Next(edges, node))
            {
                if (!index.TryGetValue(next, out var seen))
                {
                    Visit(next);
                    low[node] = Math.Min(low[node], low[next]);
                }
                else if (onStack.Contains(next))
                {
                    low[node] = Math.Min(low[node], seen);
                }
            }

            if (low[node] == index[node])
            {
                var component = new HashSet<string>(StringComparer.Ordinal);
                string member;
                do
                {
                    member = stack.Pop();
                    onStack.Remove(member);
                    component.Add(member);
                }
                while (member != node);
                components.Add(component);
            }
        }

        foreach (var node in nodes.Where(n => !index.ContainsKey(n)))
        {
            Visit(node);
        }

        return components;
    }

    /// <summary>Breadth-first from <paramref name="start"/> back to itself, inside the component.</summary>
    private static List<string> ShortestCycle(IReadOnlyDictionary<string, IReadOnlySet<string>> edges, string start, HashSet<string> component)
    {
        var cameFrom = new Dictionary<string, string>(StringComparer.Ordinal);
        var queue = new Queue<string>([start]);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            foreach (var next in Next(edges, node).Where(component.Contains))
            {
                if (next == start)
                {
                    var path = new List<string> { start };
                    for (var at = node; at != start; at = cameFrom[at])
                    {
                        path.Add(at);
                    }

                    path.Add(start);
                    path.Reverse();
                    return path;
                }

                if (cameFrom.TryAdd(next, node))
                {
                    queue.Enqueue(next);
                }
            }
        }

        throw new InvalidOperationException($"{start} is in a strongly connected component but on no cycle.");
    }

    private static IEnumerable<string> Next(IReadOnlyDictionary<string, IReadOnlySet<string>> edges, string node) =>
        edges.TryGetValue(node, out var next) ? next.Where(n => n != node).Order(StringComparer.Ordinal) : [];
}
