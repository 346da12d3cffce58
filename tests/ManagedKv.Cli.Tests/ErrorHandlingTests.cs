using ManagedKv.TestKit;

namespace ManagedKv.Cli.Tests;

/// <summary>Bad input: one line on stderr, a non-zero exit code, no stack trace unless --verbose.</summary>
[TestClass]
public sealed class ErrorHandlingTests
{
    [TestMethod]
    [DataRow(new[] { "frobnicate" }, 2, "unknown command 'frobnicate'")]
    [DataRow(new[] { "inspect", "--bogus" }, 2, "unknown option --bogus")]
    [DataRow(new[] { "inspect", "/no/such/model.gguf" }, 2, "model file not found: /no/such/model.gguf")]
    [DataRow(new[] { "generate", "-n", "many" }, 2, "--n-predict expects an integer")]
    [DataRow(new[] { "generate", "-m" }, 2, "option -m needs a value")]
    [DataRow(new[] { "bench", "-t", "0" }, 2, "--threads expects an integer in [1, 1024]")]
    public void UserErrorsPrintOneLine(string[] args, int code, string message)
    {
        var r = CliRunner.Run(args);
        Assert.AreEqual(code, r.ExitCode);
        string[] lines = r.Stderr.TrimEnd('\n').Split('\n');
        Assert.AreEqual(1, lines.Length, r.Stderr);
        StringAssert.StartsWith(lines[0], "error: ");
        StringAssert.Contains(lines[0], message);
    }

    [TestMethod]
    public void MalformedModelNamesFileFieldAndOffset()
    {
        string dir = TestData.ScratchDirectory("cli-bad");
        string path = Path.Combine(dir, "bad.gguf");
        byte[] bytes = File.ReadAllBytes(TestData.Path("stories260K.gguf"))[..40];
        File.WriteAllBytes(path, bytes);
        try
        {
            var r = CliRunner.Run("inspect", path);
            Assert.AreEqual(1, r.ExitCode);
            string line = r.Stderr.TrimEnd('\n');
            Assert.IsFalse(line.Contains('\n'), line);
            StringAssert.Contains(line, path);
            StringAssert.Contains(line, " at byte ");
            Assert.IsFalse(line.Contains("   at "), "no stack trace without --verbose");

            var verbose = CliRunner.Run("inspect", path, "--verbose");
            StringAssert.Contains(verbose.Stderr, "GgufFormatException");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void HelpListsCommands()
    {
        var r = CliRunner.Run("--help");
        Assert.AreEqual(0, r.ExitCode);
        foreach (string c in new[] { "inspect", "generate", "bench" }) StringAssert.Contains(r.Stdout, c);
    }
}
