using System.Text;
using System.Text.Json;
using ManagedKv.TestKit;

namespace ManagedKv.Cli.Tests;

[TestClass]
public sealed class DumpTests
{
    [TestMethod]
    public void DumpWritesNpyInputsAndJsonPlansPerLayer()
    {
        string dir = TestData.ScratchDirectory("dump");
        try
        {
            var r = CliRunner.Run("generate", "-p", "Once upon a time, there was a little girl", "-n", "2", "--temp", "0",
                "--press", "streaming_llm", "--compression", "0.5", "--press-arg", "sinks=2", "--dump", dir);
            Assert.AreEqual(0, r.ExitCode, r.Stderr);
            // stories260K: 5 layers × 4 KV heads, head_dim 8; the 13-token prompt is seen in full by the press.
            var (shape, descr) = ReadNpyHeader(Path.Combine(dir, "0000-layer0-head0.keys.npy"));
            Assert.AreEqual("<f4", descr);
            CollectionAssert.AreEqual(new[] { 13, 8 }, shape);
            CollectionAssert.AreEqual(new[] { 13 }, ReadNpyHeader(Path.Combine(dir, "0004-layer4-head3.positions.npy")).Shape);
            Assert.AreEqual(5 * 4 * 3 + 5, Directory.GetFiles(dir).Length);

            using var plan = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "0002-layer2.plan.json")));
            Assert.AreEqual("streaming_llm", plan.RootElement.GetProperty("press").GetString());
            var keep = plan.RootElement.GetProperty("plan").GetProperty("KeepPerHead")[0].EnumerateArray().Select(e => e.GetInt32()).ToArray();
            CollectionAssert.AreEqual(new[] { 0, 1, 9, 10, 11, 12 }, keep, "2 sinks + the 4 most recent of 13 (keep int(13·0.5) = 6)");

            // The keys file holds exactly what the cache held: 13 × 8 floats after the 128-byte header.
            long bytes = new FileInfo(Path.Combine(dir, "0000-layer0-head0.keys.npy")).Length;
            Assert.AreEqual(128 + 13 * 8 * 4, bytes);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (int[] Shape, string Descr) ReadNpyHeader(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        Assert.AreEqual(0x93, b[0]);
        Assert.AreEqual("NUMPY", Encoding.ASCII.GetString(b, 1, 5));
        int len = BitConverter.ToUInt16(b, 8);
        Assert.AreEqual(0, (10 + len) % 64, "header padded to 64 bytes");
        string header = Encoding.ASCII.GetString(b, 10, len);
        string descr = header.Split("'descr': '")[1].Split('\'')[0];
        string shape = header.Split("'shape': (")[1].Split(')')[0];
        return (shape.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray(), descr);
    }
}
