namespace ManagedKv.Cli.Tests;

[TestClass]
public sealed class PressOptionsTests
{
    [TestMethod]
    public void PressesListsEveryPressWithParameters()
    {
        var r = CliRunner.Run("presses");
        Assert.AreEqual(0, r.ExitCode, r.Stderr);
        foreach (var d in ManagedKv.Model.Compression.PressRegistry.All)
        {
            StringAssert.Contains(r.Stdout, d.Name + ": ");
            foreach (var p in d.Parameters) StringAssert.Contains(r.Stdout, $"--press-arg {p.Name}=");
        }
    }

    [TestMethod]
    public void AdaptiveHeadBudgetsKeepTheLayersTotal()
    {
        // 13 prompt tokens, window 4: SnapKV keeps int(13·0.5) = 6 per head uniformly; AdaKV shares the 4 heads' 24
        // per layer unevenly, so the total (and the cache's bytes) is the same while the heads differ.
        string[] common = ["generate", "-p", "Once upon a time, there was a little girl", "-n", "1", "--temp", "0",
            "--press", "snapkv", "--compression", "0.5", "--press-arg", "window=4"];
        var uniform = CliRunner.Run(common);
        var adaptive = CliRunner.Run([.. common, "--press-arg", "head_budget=adaptive"]);
        Assert.AreEqual(0, adaptive.ExitCode, adaptive.Stderr);
        StringAssert.Contains(adaptive.Stderr, $"cache: {20 * 6 * 68:N0} bytes");
        StringAssert.Contains(uniform.Stderr, $"cache: {20 * 6 * 68:N0} bytes");
    }

    [TestMethod]
    public void GenerateWithAPressReportsTheSmallerCache()
    {
        var r = CliRunner.Run("generate", "-p", "Once upon a time, there was a little girl", "-n", "8", "--temp", "0",
            "--press", "streaming_llm", "--compression", "0.5", "--press-arg", "sinks=2");
        Assert.AreEqual(0, r.ExitCode, r.Stderr);
        StringAssert.Contains(r.Stderr, "press: streaming_llm");
        // 13 prompt tokens keep int(13·0.5) = 6 per head: 20 heads (5 layers × 4) × 6 × (8+8 floats + 1 int) × 4 bytes,
        // then 7 decoded tokens are appended uncompressed (StreamingLLM is prefill-only).
        StringAssert.Contains(r.Stderr, $"cache: {(20 * 6 + 20 * 7) * 68:N0} bytes");
    }

    [TestMethod]
    [DataRow(new[] { "--press", "nosuch" }, "unknown press 'nosuch'")]
    [DataRow(new[] { "--press", "knorm", "--press-arg", "sinks=2" }, "no chosen press has a parameter 'sinks'")]
    [DataRow(new[] { "--press", "knorm", "--press-arg", "skip_layers=x" }, "parameter 'skip_layers' = 'x'")]
    [DataRow(new[] { "--press", "knorm", "--compression", "1" }, "--compression expects a number in [0, 0.999999]")]
    [DataRow(new[] { "--press", "h2o", "--press-arg", "head_budget=adaptive" }, "no chosen press has a parameter 'head_budget'")]
    [DataRow(new[] { "--press", "snapkv", "--press-arg", "head_budget=adaptive", "--press-arg", "alpha_safeguard=2" }, "alpha_safeguard must be in [0, 1]")]
    public void BadPressFlagsAreOneLineErrors(string[] flags, string message)
    {
        var r = CliRunner.Run(["generate", "-n", "1", .. flags]);
        Assert.AreEqual(2, r.ExitCode, r.Stderr);
        StringAssert.Contains(r.Stderr, message);
    }
}
