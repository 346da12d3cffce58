using System.Text.Json;
using ManagedKv.TestKit;

namespace ManagedKv.Cli.Tests;

[TestClass]
public sealed class InspectCommandTests
{
    [TestMethod]
    public void InspectsTheEmbeddedDefaultModel()
    {
        var r = CliRunner.Run("inspect");
        Assert.AreEqual(0, r.ExitCode, r.Stderr);
        Golden.Verify("cli", "inspect-stories260K", r.Stdout.Replace(DefaultModelName(), "<default>"));
    }

    [TestMethod]
    public void JsonListsEveryTensorWithTotals()
    {
        var r = CliRunner.Run("inspect", TestData.Path("models", "tiny-qwen2-Q8_0.gguf"), "--json");
        Assert.AreEqual(0, r.ExitCode, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.AreEqual("qwen2", root.GetProperty("summary").GetProperty("architecture").GetString());
        Assert.AreEqual("neox, base 1000000, 64 dims, scaling none", root.GetProperty("summary").GetProperty("rope").GetString());
        var tensors = root.GetProperty("tensors").EnumerateArray().ToList();
        // token_embd, output_norm, output + per block: 2 norms, q/k/v + 3 biases, output, gate/up/down.
        Assert.AreEqual(3 + 2 * 12, tensors.Count);
        Assert.AreEqual("Q8_0", tensors.First(t => t.GetProperty("name").GetString() == "blk.0.attn_q.weight").GetProperty("type").GetString());
        long sum = tensors.Sum(t => t.GetProperty("bytes").GetInt64());
        Assert.AreEqual(sum, root.GetProperty("totals").GetProperty("bytes").GetInt64());
        Assert.AreEqual(0, root.GetProperty("problems").GetArrayLength());
    }

    [TestMethod]
    public void InspectsAHuggingFaceFolder()
    {
        string folder = TestData.ScratchDirectory("cli-hf");
        try
        {
            HfCheckpointBuilder.Build(TestData.Path("models", "tiny-llama-F32.gguf"), folder, new HfCheckpointBuilder.Options(Shards: 2));
            var r = CliRunner.Run("inspect", folder);
            StringAssert.Contains(r.Stdout, "safetensors");
            StringAssert.Contains(r.Stdout, "model.layers.0.self_attn.q_proj.weight");
            StringAssert.Contains(r.Stdout, "rope                               neox, base 10000");
            // The built folder has no tokenizer.json: reported as a problem, exit code 1, still a full report.
            StringAssert.Contains(r.Stdout, "problem: tokenizer:");
            Assert.AreEqual(1, r.ExitCode);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void VocabOnlyFileIsReportedAsNotRunnable()
    {
        var r = CliRunner.Run("inspect", TestData.Path("vocab", "ggml-vocab-gpt-2.gguf"));
        Assert.AreEqual(1, r.ExitCode);
        StringAssert.Contains(r.Stdout, "unsupported architecture \"gpt2\"");
        StringAssert.Contains(r.Stdout, "tokens                             50257");
    }

    private static string DefaultModelName() => "stories260K.gguf (embedded default)";
}
