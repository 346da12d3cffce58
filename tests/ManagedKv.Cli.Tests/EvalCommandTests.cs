using System.Text.Json.Nodes;

namespace ManagedKv.Cli.Tests;

/// <summary><c>managedkv eval</c> on the embedded stories260K with tiny grids: table, JSON, PNG and SVG; determinism; resume.</summary>
[TestClass]
public sealed class EvalCommandTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static string TempFolder() => Directory.CreateTempSubdirectory("managedkv-eval-").FullName;

    private static string[] Fidelity(string output) =>
        ["eval", "fidelity", "--presses", "full,streaming_llm,kivi", "--compression", "0,0.5", "--context", "32", "--continuation", "8",
         "--windows", "2", "-o", output];

    [TestMethod]
    public void FidelityWritesTableJsonAndPlotsDeterministicallyAndResumes()
    {
        string a = TempFolder(), b = TempFolder();
        try
        {
            var first = CliRunner.Run(Fidelity(a));
            Assert.AreEqual(0, first.ExitCode, first.Stderr);
            StringAssert.Contains(first.Stdout, "| press");
            StringAssert.Contains(first.Stdout, "KL (nats/token)");
            var lines = first.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.AreEqual(2 + 4, lines.Length, first.Stdout); // header, rule, full, streaming_llm ×2, kivi
            // Ratio 0 is the full cache: zero KL, full agreement, effective ratio 1.
            var lossless = lines.Single(l => l.StartsWith("| streaming_llm", StringComparison.Ordinal) && l.Contains("|           0 |"));
            StringAssert.Contains(lossless, "0.00000");
            StringAssert.Contains(lossless, "1.0000");

            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(a, "fidelity.json")))!;
            Assert.AreEqual("stories260K.gguf (embedded default)", (string?)json["settings"]!["model"]);
            Assert.AreEqual(64, ((string?)json["settings"]!["modelSha256"])!.Length);
            Assert.AreEqual(4 * 2, json["cells"]!.AsArray().Count);
            Assert.AreEqual(File.ReadAllText(Path.Combine(a, "fidelity.md")), first.Stdout);
            foreach (string plot in new[] { "fidelity-kl", "fidelity-top1", "fidelity-perplexity" })
            {
                CollectionAssert.AreEqual(PngSignature, File.ReadAllBytes(Path.Combine(a, plot + ".png")).Take(8).ToArray(), plot);
                StringAssert.Contains(File.ReadAllText(Path.Combine(a, plot + ".svg")), "<svg", plot);
            }

            // The same command in another folder writes the same JSON, byte for byte.
            var second = CliRunner.Run(Fidelity(b));
            Assert.AreEqual(0, second.ExitCode, second.Stderr);
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(a, "fidelity.json")), File.ReadAllBytes(Path.Combine(b, "fidelity.json")));

            // Re-running in a finished folder resumes every cell and computes none.
            var resumed = CliRunner.Run([.. Fidelity(a), "--no-plots"]);
            Assert.AreEqual(0, resumed.ExitCode, resumed.Stderr);
            StringAssert.Contains(resumed.Stderr, "8/8 cells (8 resumed)");
            Assert.AreEqual(first.Stdout, resumed.Stdout);

            // Different settings in the same folder are refused, with the way out named.
            var clash = CliRunner.Run([.. Fidelity(a), "--seed", "5"]);
            Assert.AreEqual(1, clash.ExitCode);
            StringAssert.Contains(clash.Stderr, "different settings");
            StringAssert.Contains(clash.Stderr, "--fresh");
        }
        finally
        {
            Directory.Delete(a, recursive: true);
            Directory.Delete(b, recursive: true);
        }
    }

    [TestMethod]
    [DataRow("passkey")]
    [DataRow("needle")]
    public void RetrievalWritesTableJsonAndHeatmaps(string kind)
    {
        string folder = TempFolder();
        try
        {
            var r = CliRunner.Run("eval", kind, "--presses", "streaming_llm", "--compression", "0.5", "--lengths", "2", "--depths", "2",
                "--digits", "5", "--max-words", "40", "-o", folder);
            Assert.AreEqual(0, r.ExitCode, r.Stderr);
            StringAssert.Contains(r.Stdout, "| press");
            StringAssert.Contains(r.Stdout, "exact match");
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, kind + ".json")))!;
            var cells = json["cells"]!.AsArray();
            Assert.AreEqual(2 * 2, cells.Count);
            foreach (var cell in cells)
            {
                Assert.AreEqual(5, ((string?)cell!["answer"])!.Length);
                Assert.IsNotNull((string?)cell["response"]);
            }
            CollectionAssert.AreEqual(new[] { "20", "40" }, ((string?)json["settings"]!["parameters"]!["lengths"])!.Split(','));
            string heatmap = Path.Combine(folder, "heatmaps", $"{kind}-streaming_llm_0.5");
            CollectionAssert.AreEqual(PngSignature, File.ReadAllBytes(heatmap + ".png").Take(8).ToArray());
            StringAssert.Contains(File.ReadAllText(heatmap + ".svg"), "<svg");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void BadArgumentsAreUsageErrors()
    {
        Assert.AreEqual(2, CliRunner.Run("eval", "bogus").ExitCode);
        Assert.AreEqual(2, CliRunner.Run("eval", "--presses", "nope", "--no-plots").ExitCode);
        Assert.AreEqual(2, CliRunner.Run("eval", "--compression", "1.5").ExitCode);
        var tooLong = CliRunner.Run("eval", "--context", "4000", "--no-plots", "-o", Path.Combine(Path.GetTempPath(), "managedkv-never"));
        Assert.AreEqual(2, tooLong.ExitCode);
        StringAssert.Contains(tooLong.Stderr, "context length");
    }
}
