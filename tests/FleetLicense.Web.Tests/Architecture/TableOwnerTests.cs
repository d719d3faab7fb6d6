using System.Text.RegularExpressions;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace FleetLicense.Web.Tests.Architecture;

/// <summary>
/// SQL text on a hot table is written by one type, its store (docs/decisions/0006-raw-sql-kept.md): a column that
/// moves is changed in one file. Read from the compiled app, so every string the code can send counts (constants,
/// raw and interpolated literals, lambdas and async methods, which the compiler nests in their type).
/// </summary>
public sealed partial class TableOwnerTests
{
    private static readonly (string Table, string Store)[] Owners =
    [
        ("machines", "Machines.MachineStore"),
        ("machine_liveness", "Machines.MachineStore"),
        ("machine_products", "Machines.MachineProductStore"),
        ("machine_history", "Machines.MachineHistoryStore"),
        ("flags", "Flags.FlagStore"),
    ];

    /// <summary>Statements on two hot tables have one owner too; each of these is named in decision 6.</summary>
    private static readonly (string Type, string Table, string Why)[] Allowed =
    [
        ("Flags.FlagStore", "machines", "the alert scan reads flags with their machine's host name in one statement"),
        ("Machines.MachineHistoryStore", "machines", "the as-of inventory joins the history rows a replay needs to their machines, in host-name order, in one statement"),
    ];

    private static readonly Lazy<Dictionary<string, HashSet<string>>> TablesByType = new(() => Read(typeof(Program).Assembly.Location));

    [Fact]
    public void SqlText_OnAHotTable_IsWrittenOnlyByItsStore()
    {
        var strays = TablesByType.Value
            .SelectMany(t => t.Value.Select(table => (Type: t.Key, Table: table)))
            .Where(u => Owners.Any(o => o.Table == u.Table && o.Store != u.Type) && !Allowed.Any(a => a.Type == u.Type && a.Table == u.Table))
            .Select(u => $"{u.Type} writes SQL on {u.Table} (owner: {Owners.First(o => o.Table == u.Table).Store})")
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(strays.Count == 0, "Move these statements into the table's store:\n" + string.Join("\n", strays));
    }

    [Fact]
    public void AllowedExceptions_StillExist_SoTheListShrinksWhenOneIsFixed()
    {
        var gone = Allowed.Where(a => !TablesByType.Value.TryGetValue(a.Type, out var tables) || !tables.Contains(a.Table))
            .Select(a => $"{a.Type} → {a.Table}").ToList();

        Assert.True(gone.Count == 0, $"No longer needed in {nameof(Allowed)}: {string.Join(", ", gone)}");
    }

    [Fact]
    public void Read_OfTheApp_FindsStatementsInConstantsAsyncMethodsAndInterpolatedText()
    {
        var tables = TablesByType.Value;

        // A const string used in an async loop (the group commit).
        Assert.Contains("raw_reports", tables["Ingestion.ReportWriter"]);
        // Interpolated text in an expression-bodied method (FlagStore's column list).
        Assert.Contains("flags", tables["Flags.FlagStore"]);
        // Inside an async method (nested state machine) and inside an EF Core FormattableString.
        Assert.Contains("machines", tables["Machines.MachineStore"]);
    }

    /// <summary>Type under FleetLicense.Web.Features (by its outermost declaring type) → the tables its string literals use in SQL.</summary>
    private static Dictionary<string, HashSet<string>> Read(string assemblyPath)
    {
        const string prefix = "FleetLicense.Web.Features.";
        using var module = ModuleDefinition.ReadModule(assemblyPath);
        var tables = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var type in module.GetTypes())
        {
            var outer = type;
            while (outer.DeclaringType is not null)
            {
                outer = outer.DeclaringType;
            }

            if (!outer.FullName.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var text in type.Methods.Where(m => m.HasBody).SelectMany(m => m.Body.Instructions)
                .Where(i => i.OpCode == OpCodes.Ldstr).Select(i => (string)i.Operand))
            {
                foreach (Match match in Statement().Matches(text))
                {
                    var key = outer.FullName[prefix.Length..];
                    (tables.TryGetValue(key, out var set) ? set : tables[key] = new HashSet<string>(StringComparer.Ordinal)).Add(match.Groups["table"].Value);
                }
            }
        }

        return tables;
    }

    [GeneratedRegex(@"\b(?:FROM|UPDATE|INTO|JOIN|USING)\s+(?<table>[a-z_]+)\b")]
    private static partial Regex Statement();
}
