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
        """;

    /// <summary>Reads the compression flags.</summary>
    public static PressOptions Parse(CommandLine args)
    {
        var names = args.Strings("--press");
        double compression = args.Double(0.5, 0, 0.999999, "--compression");
        string? budgetText = args.String("--token-budget");
        int? budget = budgetText is null ? null : args.Int(0, 0, int.MaxValue, "--token-budget");
        var arguments = ParseArguments(args);
        if (names.Count == 0 && arguments.Count > 0) throw new CliException("--press-arg needs a --press");
        string? dump = args.String("--dump");
        if (dump is not null && names.Count == 0) throw new CliException("--dump needs a --press");
        return new PressOptions(names, compression, budget, arguments, dump);
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

    /// <summary>The runner for the chosen presses, or null when none was asked for.</summary>
    public PressRunner? CreateRunner(ModelConfig config)
    {
        if (Names.Count == 0) return null;
        var budget = new CompressionBudget { Compression = Compression, TokenBudget = TokenBudget };
        var presses = new List<IKvPress>();
        foreach (string name in Names)
        {
            try
            {
                var descriptor = PressRegistry.Get(name);
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
            if (!Names.Any(n => PressRegistry.Get(n).Parameters.Any(p => p.Name == key)))
                throw new CliException($"no chosen press has a parameter '{key}'");
        return new PressRunner(config, presses) { Dump = DumpDirectory is null ? null : new ManagedKv.Model.Diagnostics.PressDump(DumpDirectory) };
    }
}
