using BenchmarkDotNet.Running;

namespace ManagedKv.Benchmarks;

/// <summary>Entry point: BenchmarkDotNet's switcher (<c>--filter *Attention*</c>, <c>--list flat</c>, ...).</summary>
public static class Program
{
    /// <summary>Runs the benchmarks chosen on the command line.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
