using ManagedKv.TestKit;

namespace ManagedKv.Cli.Tests;

/// <summary><c>managedkv synth</c>: what it writes, and how it refuses bad arguments.</summary>
[TestClass]
public sealed class SynthCommandTests
{
    [TestMethod]
    public void WritesTheTinyReferenceModel()
    {
        string dir = TestData.ScratchDirectory("synth-cli");
        try
        {
            string path = Path.Combine(dir, "nested", "tiny.gguf");   // missing folders are created
            var (code, stdout, stderr) = Run("synth", "--shape", "tiny", "--type", "q4_k_m", "-o", path);
            Assert.AreEqual(0, code, stderr);
            Assert.AreEqual("", stderr, "no progress line for a small file");
            CollectionAssert.AreEqual(File.ReadAllBytes(TestData.Path("models", "tiny-llama-Q4_K_M.gguf")), File.ReadAllBytes(path));
            StringAssert.Contains(stdout, "1,142,976 bytes");
            StringAssert.Contains(stdout, "general.file_type 15");
            StringAssert.Contains(stdout, "seed 1001");
            StringAssert.Contains(stdout, "Q6_K ×3");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void SeedAndThreadsOptions()
    {
        string dir = TestData.ScratchDirectory("synth-cli");
        try
        {
            string a = Path.Combine(dir, "a.gguf"), b = Path.Combine(dir, "b.gguf"), c = Path.Combine(dir, "c.gguf");
            Assert.AreEqual(0, Run("synth", "--shape", "tiny-qwen2", "--type", "Q5_K_M", "-o", a, "--seed", "77", "-t", "1").Code);
            Assert.AreEqual(0, Run("synth", "--shape", "TINY-QWEN2", "--type", "q5_k_m", "--output", b, "--seed=77", "--threads", "3").Code);
            Assert.AreEqual(0, Run("synth", "--shape", "tiny-qwen2", "--type", "q5_k_m", "-o", c, "--seed", "78").Code);
            CollectionAssert.AreEqual(File.ReadAllBytes(a), File.ReadAllBytes(b));
            CollectionAssert.AreNotEqual(File.ReadAllBytes(a), File.ReadAllBytes(c));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    [DataRow("needs -o", "synth", "--shape", "tiny", "--type", "q8_0")]
    [DataRow("needs --shape", "synth", "--type", "q8_0", "-o", "OUT")]
    [DataRow("needs --type", "synth", "--shape", "tiny", "-o", "OUT")]
    [DataRow("unknown shape 'llama-70b'", "synth", "--shape", "llama-70b", "--type", "q8_0", "-o", "OUT")]
    [DataRow("unknown type 'q4_k'", "synth", "--shape", "tiny", "--type", "q4_k", "-o", "OUT")]
    [DataRow("unknown type 'iq2_xxs'", "synth", "--shape", "tiny", "--type", "iq2_xxs", "-o", "OUT")]
    [DataRow("--seed expects a non-negative integer", "synth", "--shape", "tiny", "--type", "q8_0", "-o", "OUT", "--seed", "-3")]
    [DataRow("--seed expects a non-negative integer", "synth", "--shape", "tiny", "--type", "q8_0", "-o", "OUT", "--seed", "x")]
    [DataRow("--threads expects an integer", "synth", "--shape", "tiny", "--type", "q8_0", "-o", "OUT", "-t", "0")]
    [DataRow("unknown option --sead", "synth", "--shape", "tiny", "--type", "q8_0", "-o", "OUT", "--sead", "1")]
    [DataRow("unexpected argument 'extra'", "synth", "--shape", "tiny", "--type", "q8_0", "-o", "OUT", "extra")]
    [DataRow("option -o needs a value", "synth", "--shape", "tiny", "--type", "q8_0", "-o")]
    public void BadArgumentsExitWithCode2AndOneLine(string message, params string[] args)
    {
        string dir = TestData.ScratchDirectory("synth-cli-bad");
        try
        {
            string output = Path.Combine(dir, "model.gguf");
            var (code, stdout, stderr) = Run(args.Select(a => a == "OUT" ? output : a).ToArray());
            Assert.AreEqual(2, code, stderr);
            Assert.AreEqual("", stdout);
            string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.AreEqual(1, lines.Length, stderr);
            StringAssert.StartsWith(lines[0], "error: ");
            StringAssert.Contains(lines[0], message);
            Assert.IsFalse(File.Exists(output), "nothing is written");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void AFolderAsOutputIsRefused()
    {
        string dir = TestData.ScratchDirectory("synth-cli-dir");
        try
        {
            var (code, _, stderr) = Run("synth", "--shape", "tiny", "--type", "f32", "-o", dir);
            Assert.AreEqual(2, code);
            StringAssert.Contains(stderr, "is a folder");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void HelpListsShapesAndTypes()
    {
        var (code, stdout, _) = Run("synth", "--help");
        Assert.AreEqual(0, code);
        foreach (string word in new[] { "smollm2-135m", "llama-3.2-1b", "qwen2.5-0.5b", "tiny", "q4_k_m", "q3_k_m", "bf16", "--seed" })
            StringAssert.Contains(stdout, word);
        StringAssert.Contains(Run("--help").Stdout, "synth");
    }

    private static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
