namespace ManagedKv.Cli.Tests;

[TestClass]
public sealed class GenerateCommandTests
{
    [TestMethod]
    public void GreedyGenerationOnTheDefaultModelMatchesLlamaCpp()
    {
        var r = CliRunner.Run("generate", "-p", "Once upon a time, there was a little girl", "-n", "48", "--temp", "0");
        Assert.AreEqual(0, r.ExitCode, r.Stderr);
        // llama-completion's output for the same prompt (golden/README.md §7).
        StringAssert.StartsWith(r.Stdout, "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high");
        StringAssert.Contains(r.Stderr, "tokens/s");
    }

    [TestMethod]
    public void SeededSamplingIsReproducibleAndStopStringsStop()
    {
        var a = CliRunner.Run("generate", "-p", "Once", "-n", "30", "--temp", "1.0", "--seed", "7");
        var b = CliRunner.Run("generate", "-p", "Once", "-n", "30", "--temp", "1.0", "--seed", "7");
        Assert.AreEqual(0, a.ExitCode, a.Stderr);
        Assert.AreEqual(a.Stdout, b.Stdout);
        var stopped = CliRunner.Run("generate", "-p", "Once upon a time, there was a little girl", "-n", "48", "--temp", "0", "--stop", "park");
        StringAssert.Contains(stopped.Stderr, "stop: stop string");
        Assert.IsFalse(stopped.Stdout.Contains("One day"), stopped.Stdout);
    }
}
