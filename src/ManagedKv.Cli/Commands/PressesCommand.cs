using ManagedKv.Cli.Infrastructure;
using ManagedKv.Model.Compression;

namespace ManagedKv.Cli.Commands;

/// <summary><c>managedkv presses</c>: every compression method with its parameters, defaults and paper.</summary>
public sealed class PressesCommand : ICommand
{
    /// <inheritdoc/>
    public string Name => "presses";

    /// <inheritdoc/>
    public string Summary => "list the KV-cache compression methods, their parameters and papers";

    /// <inheritdoc/>
    public string Usage => "usage: managedkv presses";

    /// <inheritdoc/>
    public IReadOnlySet<string> Switches { get; } = new HashSet<string>();

    /// <inheritdoc/>
    public int Run(CommandLine args, TextWriter stdout, TextWriter stderr)
    {
        args.ThrowOnUnused(0);
        stdout.WriteLine("Budgets: --compression C (fraction of tokens removed) or --token-budget N (tokens kept per head), where a press uses a budget.");
        stdout.WriteLine("Per-head budgets: presses listing head_budget split each layer's budget evenly (uniform) or adaptively across KV heads");
        stdout.WriteLine("  (--press-arg head_budget=adaptive: AdaKV, Feng et al. 2024, arXiv:2407.11550; heads keep different token counts);");
        stdout.WriteLine("  presses listing layer_compression take one ratio per layer instead of --compression (--press-arg layer_compression=0.2,0.5,...).");
        foreach (var d in PressRegistry.All)
        {
            stdout.WriteLine();
            stdout.WriteLine($"{d.Name}: {d.Summary}");
            stdout.WriteLine($"  paper: {d.Paper}");
            foreach (var p in d.Parameters)
                stdout.WriteLine($"  --press-arg {p.Name}=<{p.Type}>  (default {p.Default})  {p.Description}");
        }
        return 0;
    }
}
