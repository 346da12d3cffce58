using System.Globalization;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Config;

namespace ManagedKv.Model.Evaluation.Results;

/// <summary>
/// One compression setting an evaluation runs: a press (or a composition such as <c>lagkv+kivi</c>, applied in
/// order), the compression ratio (null for compositions that ignore it, e.g. <c>kivi</c> alone, which are run
/// once) and each press's parameter values.
/// </summary>
/// <param name="Presses">Registry names, in application order.</param>
/// <param name="Compression">Fraction of tokens removed, or null when no press of the composition reads it.</param>
/// <param name="Arguments">Per press name, the <c>name=value</c> arguments it is created with (only those it declares).</param>
public sealed record PressConfiguration(IReadOnlyList<string> Presses, double? Compression,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Arguments)
{
    /// <summary>The press name as users write it (<c>knorm</c>, <c>lagkv+kivi</c>).</summary>
    public string Name => string.Join("+", Presses);

    /// <summary>Identifies the setting inside a result file: <c>name@ratio</c>, or the name alone without a ratio.</summary>
    public string Key => Compression is { } c ? $"{Name}@{FormatRatio(c)}" : Name;

    /// <summary>The ratio as shown in tables and keys ("0.875"; "—" when the press ignores it).</summary>
    public string RatioText => Compression is { } c ? FormatRatio(c) : "—";

    /// <summary>Creates a fresh runner with new press instances (presses keep per-sequence state).</summary>
    public PressRunner CreateRunner(ModelConfig config) => new(config, CreatePresses());

    /// <summary>Creates the presses (validating every argument).</summary>
    public IReadOnlyList<IKvPress> CreatePresses()
    {
        var budget = new CompressionBudget { Compression = Compression ?? 0 };
        return Presses.Select(name => PressRegistry.Get(name).Create(budget, Arguments[name])).ToList();
    }

    /// <summary>Every parameter of every press with the value it runs with (given or default), sorted by name.</summary>
    public SortedDictionary<string, SortedDictionary<string, string>> ParameterValues()
    {
        var all = new SortedDictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal);
        foreach (string name in Presses)
        {
            var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in PressRegistry.Get(name).Parameters)
                values[p.Name] = Arguments[name].TryGetValue(p.Name, out var v) ? v : p.Default;
            all[name] = values;
        }
        return all;
    }

    /// <summary>
    /// Expands press specifications × ratios. A specification is <c>all</c> (every registered press), a name, or
    /// a composition <c>a+b</c>. A composition whose presses all ignore the ratio appears once, with no ratio.
    /// Each argument goes to every press that declares it; <paramref name="seed"/>, when given, is the default of
    /// any press's <c>seed</c> parameter not set explicitly.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown press, bad ratio, or an argument no chosen press declares.</exception>
    public static IReadOnlyList<PressConfiguration> Expand(IReadOnlyList<string> specifications, IReadOnlyList<double> ratios,
        IReadOnlyDictionary<string, string> arguments, int? seed = null)
    {
        if (ratios.Count == 0) throw new ArgumentException("no compression ratios given");
        foreach (double r in ratios)
            if (!(r >= 0 && r < 1)) throw new ArgumentException($"compression {r.ToString(CultureInfo.InvariantCulture)} is outside [0, 1)");
        var compositions = new List<string[]>();
        foreach (string spec in specifications)
        {
            if (spec == "all") compositions.AddRange(PressRegistry.All.Select(d => new[] { d.Name }));
            else compositions.Add(spec.Split('+', StringSplitOptions.TrimEntries));
        }
        if (compositions.Count == 0) throw new ArgumentException("no presses given");

        var used = new HashSet<string>(StringComparer.Ordinal);
        var configurations = new List<PressConfiguration>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var names in compositions)
        {
            var own = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
            foreach (string name in names)
            {
                var descriptor = PressRegistry.Get(name);
                var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
                foreach (var p in descriptor.Parameters)
                {
                    if (arguments.TryGetValue(p.Name, out var v)) { values[p.Name] = v; used.Add(p.Name); }
                    else if (p.Name == "seed" && seed is { } s) values[p.Name] = s.ToString(CultureInfo.InvariantCulture);
                }
                own[name] = values;
            }
            bool usesRatio = names.Any(n => PressRegistry.Get(n).UsesBudget);
            foreach (double? ratio in usesRatio ? ratios.Select(r => (double?)r) : [null])
            {
                var configuration = new PressConfiguration(names, ratio, own);
                if (!seen.Add(configuration.Key)) continue;
                // Validates every argument now rather than in the middle of a run.
                configuration.CreatePresses();
                configurations.Add(configuration);
            }
        }
        foreach (string key in arguments.Keys)
            if (!used.Contains(key)) throw new ArgumentException($"no chosen press has a parameter '{key}'");
        return configurations;
    }

    /// <summary>Formats a ratio the same way everywhere (shortest round-trip text, invariant culture).</summary>
    public static string FormatRatio(double ratio) => ratio.ToString("R", CultureInfo.InvariantCulture);
}
