using System.Globalization;

namespace ManagedKv.Cli.Infrastructure;

/// <summary>
/// A small llama.cpp-style argument parser: short and long flags (<c>-m x</c>, <c>--model x</c>,
/// <c>--model=x</c>), repeatable options and positionals. Every flag a command reads is declared by
/// reading it; <see cref="ThrowOnUnused"/> then rejects anything the command did not ask for.
/// </summary>
public sealed class CommandLine
{
    private readonly List<(string Name, string? Value)> _options = [];
    private readonly List<string> _positionals = [];
    private readonly HashSet<int> _used = [];

    /// <summary>Parses <paramref name="args"/>; <paramref name="switches"/> are flags that take no value.</summary>
    public CommandLine(IEnumerable<string> args, IReadOnlySet<string> switches)
    {
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            if (a.Length > 1 && a[0] == '-' && !IsNumber(a))
            {
                int eq = a.IndexOf('=');
                string name = eq > 0 ? a[..eq] : a;
                if (eq > 0) _options.Add((name, a[(eq + 1)..]));
                else if (switches.Contains(name)) _options.Add((name, null));
                else if (i + 1 < list.Count) _options.Add((name, list[++i]));
                else _options.Add((name, null)); // reported as unknown, or as missing its value when read

            }
            else
            {
                _positionals.Add(a);
            }
        }
    }

    /// <summary>Positional arguments in order.</summary>
    public IReadOnlyList<string> Positionals => _positionals;

    /// <summary>True if any of the switch names is present.</summary>
    public bool Flag(params string[] names) => Find(names).Any();

    /// <summary>The last value given for any of the names, or null.</summary>
    public string? String(params string[] names)
    {
        var hits = Find(names).ToList();
        if (hits.Count == 0) return null;
        var (name, value) = _options[hits[^1]];
        return value ?? throw new CliException($"option {name} needs a value");
    }

    /// <summary>All values given for any of the names, in order.</summary>
    public IReadOnlyList<string> Strings(params string[] names) =>
        Find(names).Select(i => _options[i].Value ?? throw new CliException($"option {_options[i].Name} needs a value")).ToList();

    /// <summary>An integer option within [min, max].</summary>
    public int Int(int fallback, int min, int max, params string[] names)
    {
        string? s = String(names);
        if (s is null) return fallback;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
            throw new CliException($"{names[^1]} expects an integer in [{min}, {max}], got '{s}'");
        return v;
    }

    /// <summary>A floating-point option within [min, max].</summary>
    public double Double(double fallback, double min, double max, params string[] names)
    {
        string? s = String(names);
        return s is null ? fallback : ParseDouble(s, min, max, names[^1]);
    }

    /// <summary>A comma-separated list of floating-point values within [min, max] (e.g. <c>0.5,0.75</c>).</summary>
    public IReadOnlyList<double> DoubleList(double fallback, double min, double max, params string[] names)
    {
        string? s = String(names);
        return s is null ? [fallback] : s.Split(',').Select(item => ParseDouble(item.Trim(), min, max, names[^1])).ToList();
    }

    private static double ParseDouble(string s, double min, double max, string name) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= min && v <= max && !double.IsNaN(v)
            ? v
            : throw new CliException($"{name} expects a number in [{min}, {max}], got '{s}'");

    /// <summary>Rejects options the command never read and positionals beyond <paramref name="maxPositionals"/>.</summary>
    public void ThrowOnUnused(int maxPositionals)
    {
        for (int i = 0; i < _options.Count; i++)
            if (!_used.Contains(i)) throw new CliException($"unknown option {_options[i].Name} (see --help)");
        if (_positionals.Count > maxPositionals)
            throw new CliException($"unexpected argument '{_positionals[maxPositionals]}' (see --help)");
    }

    private IEnumerable<int> Find(string[] names)
    {
        var hits = new List<int>();
        for (int i = 0; i < _options.Count; i++)
            if (names.Contains(_options[i].Name)) { hits.Add(i); _used.Add(i); }
        return hits;
    }

    private static bool IsNumber(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
