using ManagedKv.Cli.Infrastructure;
using ManagedKv.Model.Compression;

namespace ManagedKv.Cli.Tests;

/// <summary><c>bench</c>'s compression and profiling options on the embedded stories260K (tiny runs; no timing asserted).</summary>
[TestClass]
public sealed class BenchCommandTests
{
    [TestMethod]
    public void PressSweepWritesOneRowPerConfigurationWithTheCacheRatio()
    {
        var r = CliRunner.Run("bench", "-p", "32", "-n", "4", "-r", "1", "--press", "full,streaming_llm,kivi",
            "--compression", "0.5,0.75", "--press-arg", "sinks=2", "--profile");
        Assert.AreEqual(0, r.ExitCode, r.Stderr);
        var rows = r.Stdout.Split('\n').Where(l => l.StartsWith("| ") && !l.StartsWith("| press") && !l.StartsWith("| ---")).ToList();
        CollectionAssert.AreEqual(new[] { "full", "streaming_llm", "streaming_llm", "kivi" }, rows.Select(Cells).Select(c => c[0]).ToList());
        CollectionAssert.AreEqual(new[] { "–", "0.5", "0.75", "–" }, rows.Select(Cells).Select(c => c[1]).ToList(), "presses that ignore the ratio run once");
        StringAssert.Contains(r.Stdout, "attention % of tg");
        StringAssert.Contains(r.Stdout, "pp32 with the press, then tg4 at depth 32");
        // StreamingLLM keeps int(32·(1 − c)) prompt tokens per head, then appends the 4 decoded ones; every token costs
        // the same bytes, so the cache holds (kept + 4) / (32 + 4) of the full cache's bytes.
        int ratioColumn = Cells(r.Stdout.Split('\n').First(l => l.StartsWith("| press"))).IndexOf("cache ÷ full");
        Assert.AreEqual("1.000", Cells(rows[0])[ratioColumn]);
        Assert.AreEqual($"{(16 + 4) / 36.0:F3}", Cells(rows[1])[ratioColumn]);
        Assert.AreEqual($"{(8 + 4) / 36.0:F3}", Cells(rows[2])[ratioColumn]);
        StringAssert.Contains(r.Stderr, "[warm-up 4/4] kivi");
        StringAssert.Contains(r.Stderr, "[rep 1/1] kivi");
    }

    [TestMethod]
    public void ProfileWithoutPressesWritesTheOperationTable()
    {
        var r = CliRunner.Run("bench", "-p", "16", "-n", "4", "-r", "1", "--profile");
        Assert.AreEqual(0, r.ExitCode, r.Stderr);
        StringAssert.Contains(r.Stdout, "| operation | pp16 ms | pp16 share | tg4 ms | tg4 share |");
        StringAssert.Contains(r.Stdout, "| Attention | ");
        StringAssert.Contains(r.Stdout, "| MatMul | ");
        StringAssert.Contains(r.Stdout, "| outside the backend | ");
    }

    [TestMethod]
    [DataRow("1")]
    [DataRow("2")]
    public void DecodeBandwidthIsReportedAsAFractionOfTheMeasuredReadBandwidth(string threads)
    {
        var r = CliRunner.Run("bench", "-p", "0", "-n", "4", "-r", "1", "-t", threads);
        Assert.AreEqual(0, r.ExitCode, r.Stderr);
        var match = System.Text.RegularExpressions.Regex.Match(r.Stderr,
            @"decode reads ~[0-9.]+ MiB of weights per token: ([0-9.]+) GB/s = ([0-9]+)% of the ([0-9.]+) GB/s that (\d) threads? stream");
        Assert.IsTrue(match.Success, r.Stderr);
        Assert.AreEqual(threads, match.Groups[4].Value);
        double decode = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        double read = double.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsTrue(read > 0, r.Stderr);
        Assert.AreEqual(Math.Round(100 * decode / read), double.Parse(match.Groups[2].Value), 1.0, r.Stderr); // rounding of the printed figures
    }

    [TestMethod]
    public void CacheTypeF16HalvesTheCacheBytesAndMismatchedTypesAreRefused()
    {
        // stories260K, "Once" + 4 generated tokens = 5 positions × 5 layers × 4 KV heads, each (8 + 8) values and a
        // 4-byte position: 68 bytes in f32, 36 in f16.
        var f32 = CliRunner.Run("generate", "-p", "Once", "-n", "4", "--press", "full");
        var f16 = CliRunner.Run("generate", "-p", "Once", "-n", "4", "--press", "full", "-ctk", "f16", "-ctv", "f16");
        Assert.AreEqual(0, f32.ExitCode, f32.Stderr);
        Assert.AreEqual(0, f16.ExitCode, f16.Stderr);
        StringAssert.Contains(f32.Stdout + f32.Stderr, $"cache: {100 * 68:N0} bytes vs full cache {100 * 68:N0} bytes for 5 positions");
        StringAssert.Contains(f16.Stdout + f16.Stderr, $"cache: {100 * 36:N0} bytes vs full cache {100 * 36:N0} bytes for 5 positions");

        var mismatch = CliRunner.Run("bench", "-p", "8", "-n", "1", "-r", "1", "-ctk", "f16", "-ctv", "f32");
        Assert.AreNotEqual(0, mismatch.ExitCode);
        StringAssert.Contains(mismatch.Stderr, "share one storage type");
        var unknown = CliRunner.Run("generate", "-n", "1", "-ctk", "q8_0");
        Assert.AreNotEqual(0, unknown.ExitCode);
        StringAssert.Contains(unknown.Stderr, "--cache-type-k q8_0");
    }

    [TestMethod]
    public void SweepExpandsAllCompositionsRatiosAndArguments()
    {
        var line = new CommandLine(["--press", "all,lagkv+kivi", "--compression", "0.5,0.75", "--press-arg", "lag=64"], new HashSet<string>());
        var sweep = PressOptions.ParseSweep(line);
        line.ThrowOnUnused(0);
        var expected = new List<(string, double)>();
        foreach (var d in PressRegistry.All)
            if (d.UsesBudget) expected.AddRange([(d.Name, 0.5), (d.Name, 0.75)]);
            else expected.Add((d.Name, 0.5));
        expected.AddRange([("lagkv+kivi", 0.5), ("lagkv+kivi", 0.75)]);
        CollectionAssert.AreEqual(expected, sweep.Select(o => (o.Label, o.Compression)).ToList());
        using var source = Model.Loading.ModelSource.Open(ManagedKv.TestKit.TestData.Path("stories260K.gguf"));
        foreach (var options in sweep)
        {
            bool lagkv = options.Names.Contains("lagkv");
            Assert.AreEqual(lagkv ? "64" : null, options.Arguments.GetValueOrDefault("lag"), options.Label);
            Assert.IsNotNull(options.CreateRunner(source.Config));
        }
    }

    [TestMethod]
    public void RepeatedPressFlagsAreOneComposition()
    {
        var sweep = PressOptions.ParseSweep(new CommandLine(["--press", "lagkv", "--press", "kivi", "--compression", "0.75"], new HashSet<string>()));
        Assert.AreEqual(1, sweep.Count);
        CollectionAssert.AreEqual(new[] { "lagkv", "kivi" }, sweep[0].Names.ToArray());
        Assert.AreEqual(0.75, sweep[0].Compression);
        Assert.AreEqual(0, PressOptions.ParseSweep(new CommandLine([], new HashSet<string>())).Count);
    }

    [TestMethod]
    [DataRow(new[] { "--press", "lagkv,knorm", "--press", "kivi" }, "takes a single --press")]
    [DataRow(new[] { "--press", "all", "--press-arg", "nosuch=1" }, "no chosen press has a parameter 'nosuch'")]
    [DataRow(new[] { "--press", "knorm,nosuch" }, "unknown press 'nosuch'")]
    [DataRow(new[] { "--press", "knorm", "--compression", "0.5,x" }, "--compression expects a number in [0, 0.999999], got 'x'")]
    [DataRow(new[] { "--press", "full", "-p", "0" }, "--press needs a prompt")]
    [DataRow(new[] { "--press", "full", "-p", "2000", "-n", "100" }, "-p 2000 + -n 100 exceeds the context length 2048")]
    public void BadBenchFlagsAreOneLineErrors(string[] flags, string message)
    {
        var r = CliRunner.Run(["bench", "-r", "1", .. flags]);
        Assert.AreEqual(2, r.ExitCode, r.Stderr);
        StringAssert.Contains(r.Stderr, message);
    }

    private static List<string> Cells(string row) => row.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToList();
}
