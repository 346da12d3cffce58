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

    [TestMethod]
    public void DumpWritesTheAttentionStatisticsAnAttentionPressScoredWith()
    {
        string dir = TestData.ScratchDirectory("dump-attention");
        try
        {
            var r = CliRunner.Run("generate", "-p", "Once upon a time, there was a little girl", "-n", "1", "--temp", "0",
                "--press", "tova", "--compression", "0.5", "--dump", dir);
            Assert.AreEqual(0, r.ExitCode, r.Stderr);
            // stories260K: 8 query heads over 4 KV heads; TOVA sums the attention of the prompt's last query (position 12).
            string file = Path.Combine(dir, "0003-layer3.attention.npy");
            var (shape, descr) = ReadNpyHeader(file);
            Assert.AreEqual("<f4", descr);
            CollectionAssert.AreEqual(new[] { 8, 13 }, shape);
            float[] attention = ReadNpyFloats(file);
            for (int q = 0; q < 8; q++)
                Assert.AreEqual(1.0, attention.Skip(q * 13).Take(13).Sum(x => (double)x), 1e-5, $"query head {q}: one query's probabilities sum to 1");

            using var plan = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "0003-layer3.plan.json")));
            var described = plan.RootElement.GetProperty("attention");
            Assert.AreEqual("0003-layer3.attention.npy", described.GetProperty("file").GetString());
            CollectionAssert.AreEqual(new[] { 8, 13 }, described.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());
            Assert.AreEqual(12, described.GetProperty("queries").GetProperty("start").GetInt32());
            Assert.AreEqual(13, described.GetProperty("queries").GetProperty("end").GetInt32());
            Assert.AreEqual(2, described.GetProperty("query_heads_per_kv_head").GetInt32());

            // The plan follows from the dumped statistics: TOVA keeps the newest token and the 5 best of the rest by
            // the attention averaged over the 8 heads (int(13 · 0.5) = 6), ties to the lower position.
            var mean = Enumerable.Range(0, 13).Select(j => Enumerable.Range(0, 8).Sum(q => (double)attention[q * 13 + j]) / 8).ToArray();
            var expected = Enumerable.Range(0, 12).OrderByDescending(j => mean[j]).ThenBy(j => j).Take(5).Append(12).Order().ToArray();
            var keep = plan.RootElement.GetProperty("plan").GetProperty("KeepPerHead")[1].EnumerateArray().Select(e => e.GetInt32()).ToArray();
            CollectionAssert.AreEqual(expected, keep);

            Assert.AreEqual(5, Directory.GetFiles(dir, "*.attention.npy").Length, "one attention file per layer (5 layers, prefill only)");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void PressesWithoutAttentionDumpNoStatistics()
    {
        string dir = TestData.ScratchDirectory("dump-knorm");
        try
        {
            var r = CliRunner.Run("generate", "-p", "Once upon a time", "-n", "1", "--temp", "0", "--press", "knorm", "--compression", "0.5", "--dump", dir);
            Assert.AreEqual(0, r.ExitCode, r.Stderr);
            Assert.AreEqual(0, Directory.GetFiles(dir, "*.attention.npy").Length);
            using var plan = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "0002-layer2.plan.json")));
            Assert.AreEqual(JsonValueKind.Null, plan.RootElement.GetProperty("attention").ValueKind);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static float[] ReadNpyFloats(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        int start = 10 + BitConverter.ToUInt16(b, 8);
        var values = new float[(b.Length - start) / 4];
        Buffer.BlockCopy(b, start, values, 0, values.Length * 4);
        return values;
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
