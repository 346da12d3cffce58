using ManagedKv.Model.Compression;

namespace ManagedKv.Cli.Tests;

/// <summary><c>managedkv parity</c> on the embedded stories260K: CPU (the default candidate) against the reference.</summary>
[TestClass]
public sealed class ParityCommandTests
{
    [TestMethod]
    public void EveryPressGetsARowAndTheCpuMatchesTheReference()
    {
        var result = CliRunner.Run("parity", "--press", "all", "-n", "4", "--press-arg", "lag=32");
        Assert.AreEqual(0, result.ExitCode, result.Stderr + result.Stdout);
        StringAssert.Contains(result.Stdout, "parity: cpu vs reference");
        StringAssert.Contains(result.Stdout, "| press | plans equal (layers×heads differing) | greedy equal (first divergent step) | max logit diff | rel |");
        var rows = result.Stdout.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)).Skip(1).ToArray();
        CollectionAssert.AreEqual(PressRegistry.All.Select(d => d.Name).ToArray(), rows.Select(r => r.Split('|')[1].Trim()).ToArray());
        foreach (string row in rows)
        {
            var cells = row.Split('|').Select(c => c.Trim()).ToArray();
            StringAssert.StartsWith(cells[2], "yes", row);
            Assert.AreEqual("yes (4 steps)", cells[3], row);
        }
        // LagKV with lag 32 does compress the 201-token default prompt.
        StringAssert.Contains(rows.Single(r => r.StartsWith("| lagkv ", StringComparison.Ordinal)), "yes (0/20)");
    }

    [TestMethod]
    public void DifferencesBeyondToleranceExitNonZero()
    {
        // CPU and reference logits differ by ~1e-7 of the range: a zero tolerance must fail, naming the press.
        var result = CliRunner.Run("parity", "--press", "knorm", "-n", "2", "--tolerance", "0");
        Assert.AreEqual(1, result.ExitCode, result.Stdout);
        StringAssert.Contains(result.Stderr, "parity: knorm differs beyond tolerance");
        StringAssert.Contains(result.Stdout, "| knorm | yes");
    }

    [TestMethod]
    public void TheReferenceCandidateIsCheckedAgainstTheCpu()
    {
        var result = CliRunner.Run("parity", "--backend", "reference", "--press", "snapkv", "--press", "tova", "-n", "2");
        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        StringAssert.Contains(result.Stdout, "parity: reference vs cpu");
        StringAssert.Contains(result.Stdout, "| snapkv | yes (0/20)");
        StringAssert.Contains(result.Stdout, "| tova | yes (0/20)");
    }

    [TestMethod]
    [DataRow(new[] { "--backend", "nope" }, "unknown backend 'nope'")]
    [DataRow(new[] { "--press", "all", "--press", "knorm" }, "--press all cannot be combined")]
    [DataRow(new[] { "--press", "nope" }, "unknown press 'nope'")]
    [DataRow(new[] { "--press", "knorm", "--press-arg", "lag=4" }, "no chosen press has a parameter 'lag'")]
    [DataRow(new[] { "-n", "0" }, "-n")]
    public void BadArgumentsAreUsageErrors(string[] arguments, string message)
    {
        var result = CliRunner.Run(["parity", .. arguments]);
        Assert.AreEqual(2, result.ExitCode, result.Stdout);
        StringAssert.Contains(result.Stderr, message);
    }
}
