using System.Globalization;
using ManagedKv.Cli.Infrastructure;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Diagnostics;

namespace ManagedKv.Cli.Commands;

/// <summary>
/// <c>managedkv parity</c>: runs a prompt through a candidate backend and an oracle backend with each chosen press
/// (<see cref="BackendParity"/>) and prints a Markdown table: equal plans, equal greedy tokens, logit differences.
/// The candidate is the backend <c>--backend</c> names; the oracle is <c>cpu</c>, or <c>reference</c> (the scalar
/// oracle) when the candidate is <c>cpu</c> itself, so the default run checks the CPU backend against the reference.
/// Exits 1 when any press differs beyond tolerance.
/// </summary>
public sealed class ParityCommand : ICommand
{
    /// <summary>The default prompt: a 201-token story on stories260K, long enough for every press but LagKV's default lag.</summary>
    public const string DefaultPrompt =
        "Tom was a small boy who lived in a little house near the woods. Every morning, he went outside to play with his dog, Max. "
        + "Max was brown and very fast. One sunny day, Tom and Max found a big red box under a tree. Tom opened the box and saw a shiny "
        + "ball inside. \"Look, Max! A ball!\" Tom said. Max wagged his tail and barked. They played with the ball all day. At night, "
        + "Tom said to his mom, \"Today was the best day ever!\"";

    /// <inheritdoc/>
    public string Name => "parity";

    /// <inheritdoc/>
    public string Summary => "compare a backend against the oracle: plans, greedy tokens and logits per press";

    /// <inheritdoc/>
    public string Usage => "usage: managedkv parity [options]\n" + ModelOptions.Usage + PressOptions.Usage + """
          --press all          every registered press, one row each (the default when no --press is given)
          --backend NAME       the candidate; it is checked against cpu, or against reference when it is cpu
          -p, --prompt TEXT    prompt (default: a 201-token story; lagkv's default lag needs 272 tokens:
                               pass --press-arg lag=32 to exercise it on the default prompt)
          -n, --n-predict N    greedy tokens compared (default: 16)
          --tolerance R        largest logit difference accepted, relative to the oracle's logit range (default: 1e-3)
        exit code: 0 when every press gives equal plans, logits within tolerance and equal greedy tokens (or a
        divergence at a near tie: a top-1/top-2 margin within twice the logit difference), 1 otherwise
        """;

    /// <inheritdoc/>
    public IReadOnlySet<string> Switches { get; } = new HashSet<string>();

    /// <inheritdoc/>
    public int Run(CommandLine args, TextWriter stdout, TextWriter stderr)
    {
        var model = ModelOptions.Parse(args);
        string prompt = args.String("-p", "--prompt") ?? DefaultPrompt;
        int steps = args.Int(16, 1, 1 << 16, "-n", "--n-predict");
        double tolerance = args.Double(1e-3, 0, double.MaxValue, "--tolerance");
        var pressOptions = PressOptions.Parse(args);
        args.ThrowOnUnused(0);
        if (pressOptions.DumpDirectory is not null) throw new CliException("parity does not support --dump");

        var descriptors = Presses(pressOptions.Names);
        foreach (string key in pressOptions.Arguments.Keys)
            if (!descriptors.Any(d => d.Parameters.Any(p => p.Name == key)))
                throw new CliException($"no chosen press has a parameter '{key}'");
        var budget = new CompressionBudget { Compression = pressOptions.Compression, TokenBudget = pressOptions.TokenBudget };
        var oracleOptions = model with { Backend = OracleBackend(model.Backend) };

        using var source = model.OpenSource();
        int[] tokens = source.CreateTokenizer().Encode(prompt, addSpecial: true);
        if (tokens.Length == 0) throw new CliException("the prompt encodes to no tokens");
        if (tokens.Length + steps > source.Config.ContextLength)
            throw new CliException($"{tokens.Length} prompt tokens + {steps} steps exceed the context of {source.Config.ContextLength}");
        // Create both once up front so a bad --backend fails before any work.
        model.CreateBackend().Dispose();
        oracleOptions.CreateBackend().Dispose();

        var parity = new BackendParity(source, model.CreateBackend, oracleOptions.CreateBackend) { BatchSize = model.BatchSize, Tolerance = tolerance };
        stdout.WriteLine($"parity: {model.Backend} vs {oracleOptions.Backend} on {model.DisplayName}, {tokens.Length} prompt tokens, {steps} greedy steps, "
            + (budget.TokenBudget is { } b ? $"token budget {b}" : string.Create(CultureInfo.InvariantCulture, $"compression {budget.Compression:0.###}")));
        stdout.WriteLine();
        stdout.WriteLine("| press | plans equal (layers×heads differing) | greedy equal (first divergent step) | max logit diff | rel |");
        stdout.WriteLine("|---|---|---|---|---|");
        var failures = new List<PressParityResult>();
        foreach (var descriptor in descriptors)
        {
            PressParityResult result;
            try
            {
                result = parity.Compare(descriptor, budget, pressOptions.Arguments, tokens, steps);
            }
            catch (ArgumentException e)
            {
                throw new CliException($"press '{descriptor.Name}': {e.Message}");
            }
            stdout.WriteLine(Row(result));
            if (!result.WithinTolerance) failures.Add(result);
        }
        stdout.Flush();
        foreach (var failure in failures)
            stderr.WriteLine($"parity: {failure.Press} differs beyond tolerance"
                + (failure.FirstPlanDifference is { } plan ? $": first plan difference: {plan}" : "")
                + (failure.FirstDivergentStep is { } step ? $"; greedy diverges at step {step}{(failure.DivergenceIsNearTie ? " (near tie)" : "")}" : "")
                + string.Create(CultureInfo.InvariantCulture, $"; relative logit difference {failure.RelativeLogitDifference:G3} (tolerance {failure.Tolerance:G3})"));
        return failures.Count == 0 ? 0 : 1;
    }

    /// <summary>The oracle for a candidate backend: <c>cpu</c>, or <c>reference</c> when the candidate is <c>cpu</c>.</summary>
    public static string OracleBackend(string candidate) => candidate == "cpu" ? "reference" : "cpu";

    /// <summary>One table row.</summary>
    public static string Row(PressParityResult r)
    {
        string plans = r.PlansCompared == 0 && r.HeadsCompared == 0
            ? "yes (no plans)"
            : $"{(r.PlansEqual ? "yes" : "no")} ({r.HeadsDiffering}/{r.HeadsCompared})";
        // Quantised storage is hashed bit for bit; it is reported next to the plans, not judged (see PressParityResult).
        if (r.StorageHeadsCompared > 0) plans += $"; storage hash {r.StorageHeadsDiffering}/{r.StorageHeadsCompared} differ";
        string greedy = r.FirstDivergentStep is { } step
            ? $"no (step {step}{(r.DivergenceIsNearTie ? ", near tie" : "")})"
            : $"yes ({r.GreedySteps} steps)";
        return string.Create(CultureInfo.InvariantCulture,
            $"| {r.Press} | {plans} | {greedy} | {r.MaxLogitDifference:G3} | {r.RelativeLogitDifference:G3} |");
    }

    private static List<PressDescriptor> Presses(IReadOnlyList<string> names)
    {
        if (names.Count == 0 || names.Contains("all"))
        {
            if (names.Count > 1) throw new CliException("--press all cannot be combined with other presses");
            return PressRegistry.All.ToList();
        }
        var result = new List<PressDescriptor>();
        foreach (string name in names)
        {
            try { result.Add(PressRegistry.Get(name)); }
            catch (ArgumentException e) { throw new CliException(e.Message); }
        }
        return result;
    }
}
