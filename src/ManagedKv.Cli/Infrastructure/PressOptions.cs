using ManagedKv.Model.Compression;
using ManagedKv.Model.Config;

namespace ManagedKv.Cli.Infrastructure;

/// <summary>Compression flags shared by model-running commands: <c>--press</c>, <c>--compression</c>, <c>--press-arg</c>.</summary>
public sealed record PressOptions(IReadOnlyList<string> Names, double Compression, int? TokenBudget, IReadOnlyDictionary<string, string> Arguments, string? DumpDirectory)
{
    /// <summary>Usage lines for these options.</summary>
    public const string Usage = """
          --press NAME         compression method (repeatable: applied in order; see `managedkv presses`)
          --compression C      fraction of the cache removed, in [0, 1) (default: 0.5)
          --token-budget N     keep at most N tokens per head instead of a ratio
          --press-arg K=V      a press parameter (repeatable)
          --dump DIR           write each press's input keys/values (.npy) and plan (.json) per layer
        """ + "\n"; // usage blocks are concatenated: each ends its last line

    /// <summary>Usage lines for the comparison form (<see cref="ParseSweep"/>).</summary>
    public const string SweepUsage = """
          --press NAME         compression method (repeatable: applied in order; see `managedkv presses`);
                               or one comma list to compare methods, each measured on its own: `lagkv,knorm`,
                               `all` (every registered press), `lagkv+kivi` (a composition within the list)
          --compression C[,C]  fraction of the cache removed, in [0, 1) (default: 0.5); a comma list measures each
          --token-budget N     keep at most N tokens per head instead of a ratio
          --press-arg K=V      a press parameter, given to each listed press that declares it (repeatable)
        """;

    /// <summary>The presses' names joined as a composition, e.g. <c>lagkv+kivi</c>.</summary>
    public string Label => string.Join("+", Names);

    /// <summary>Whether any chosen press reads the ratio / token budget (KIVI alone does not).</summary>
    public bool UsesBudget => Names.Any(n => PressRegistry.Get(n).UsesBudget);

    /// <summary>Reads the compression flags.</summary>
    public static PressOptions Parse(CommandLine args)
    {
        var names = args.Strings("--press");
        double compression = args.Double(0.5, 0, 0.999999, "--compression");
        var (budget, arguments) = ParseBudgetAndArguments(args, names.Count > 0);
        string? dump = args.String("--dump");
        if (dump is not null && names.Count == 0) throw new CliException("--dump needs a --press");
        return new PressOptions(names, compression, budget, arguments, dump);
    }

    /// <summary>
    /// Reads the comparison form of the flags (<see cref="SweepUsage"/>): one configuration per listed press (or
    /// composition) and compression ratio, in listing order; a configuration whose presses ignore the budget is
    /// listed once. Each configuration gets the <c>--press-arg</c> values its presses declare. Empty when no
    /// <c>--press</c> was given.
    /// </summary>
    public static IReadOnlyList<PressOptions> ParseSweep(CommandLine args)
    {
        var values = args.Strings("--press");
        var compressions = args.DoubleList(0.5, 0, 0.999999, "--compression");
        var (budget, arguments) = ParseBudgetAndArguments(args, values.Count > 0);
        List<string[]> compositions;
        if (values.Count == 1)
        {
            compositions = values[0].Split(',', StringSplitOptions.TrimEntries)
                .SelectMany(item => item == "all"
                    ? PressRegistry.All.Select(d => new[] { d.Name })
                    : [item.Split('+', StringSplitOptions.TrimEntries)])
                .ToList();
        }
        else
        {
            if (values.Any(v => v.Contains(',') || v.Contains('+') || v == "all"))
                throw new CliException("a list of presses to compare (a,b / all / a+b) takes a single --press; repeated --press flags form one composition");
            compositions = values.Count == 0 ? [] : [values.ToArray()];
        }
        foreach (string name in compositions.SelectMany(c => c)) Descriptor(name);
        foreach (string key in arguments.Keys)
            if (!compositions.SelectMany(c => c).Any(n => Declares(n, key)))
                throw new CliException($"no chosen press has a parameter '{key}'");

        var sweep = new List<PressOptions>();
        foreach (var names in compositions)
        {
            var own = arguments.Where(a => names.Any(n => Declares(n, a.Key))).ToDictionary();
            var first = new PressOptions(names, compressions[0], budget, own, null);
            if (!first.UsesBudget || budget is not null)
            {
                sweep.Add(first);
                continue;
            }
            foreach (double c in compressions) sweep.Add(first with { Compression = c });
        }
        return sweep;
    }

    /// <summary>The runner for the chosen presses, or null when none was asked for.</summary>
    public PressRunner? CreateRunner(ModelConfig config)
    {
        if (Names.Count == 0) return null;
        var budget = new CompressionBudget { Compression = Compression, TokenBudget = TokenBudget };
        var presses = new List<IKvPress>();
        foreach (string name in Names)
        {
            var descriptor = Descriptor(name);
            try
            {
                // Each press takes the arguments it declares; an argument no chosen press declares is an error.
                var own = Arguments.Where(a => descriptor.Parameters.Any(p => p.Name == a.Key)).ToDictionary();
                presses.Add(descriptor.Create(budget, own));
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message);
            }
        }
        foreach (string key in Arguments.Keys)
            if (!Names.Any(n => Declares(n, key)))
                throw new CliException($"no chosen press has a parameter '{key}'");
        return new PressRunner(config, presses) { Dump = DumpDirectory is null ? null : new ManagedKv.Model.Diagnostics.PressDump(DumpDirectory) };
    }

    private static (int? Budget, Dictionary<string, string> Arguments) ParseBudgetAndArguments(CommandLine args, bool anyPress)
    {
        string? budgetText = args.String("--token-budget");
        int? budget = budgetText is null ? null : args.Int(0, 0, int.MaxValue, "--token-budget");
        var arguments = ParseArguments(args);
        if (!anyPress && arguments.Count > 0) throw new CliException("--press-arg needs a --press");
        return (budget, arguments);
    }

    /// <summary>The <c>--press-arg NAME=VALUE</c> options (a later value for a name wins).</summary>
    public static Dictionary<string, string> ParseArguments(CommandLine args)
    {
        var arguments = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string kv in args.Strings("--press-arg"))
        {
            int eq = kv.IndexOf('=');
            if (eq <= 0) throw new CliException($"--press-arg expects NAME=VALUE, got '{kv}'");
            arguments[kv[..eq]] = kv[(eq + 1)..];
        }
        return arguments;
    }

    private static PressDescriptor Descriptor(string name)
    {
        try
        {
            return PressRegistry.Get(name);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
    }

    private static bool Declares(string press, string parameter) => Descriptor(press).Parameters.Any(p => p.Name == parameter);
}
