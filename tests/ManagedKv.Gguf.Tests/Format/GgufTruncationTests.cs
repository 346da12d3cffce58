using ManagedKv.TestKit;

namespace ManagedKv.Gguf.Tests.Format;

/// <summary>Every prefix of a file that cuts into its header or tensor data must fail with a located format error.</summary>
[TestClass]
public sealed class GgufTruncationTests
{
    [TestMethod]
    public void SampleTruncatedAtEveryOffset()
    {
        byte[] bytes = SampleGguf.Bytes();
        long needed;
        using (var full = GgufFile.FromBytes(bytes)) needed = full.Tensors.Max(t => t.FileOffset + t.ByteSize);
        var fields = new HashSet<string>();
        for (int n = 0; n < bytes.Length; n++)
        {
            var e = GgufProbe.Open(bytes[..n], "sample.gguf");
            if (n < needed)
            {
                Assert.IsNotNull(e, $"a {n}-byte prefix opened");
                Assert.IsTrue(e.Offset >= 0 && e.Offset <= n, $"prefix {n}: {e.Message}");
                fields.Add(e.Field);
            }
            else
            {
                Assert.IsNull(e, $"only the last tensor's padding is missing at {n}, yet: {e?.Message}");
            }
        }
        // The errors walk through every kind of field, not one generic message. (The first ~20 pairs are never
        // reached: metadata_kv_count × 13 bytes already exceeds such short prefixes.)
        foreach (string expected in new[] { "magic", "version", "tensor_count", "metadata_kv_count", "metadata[44].key",
                     "metadata[\"array.i64\"].type", "metadata[\"array.u8\"].element_type", "metadata[\"after.arrays\"]",
                     "metadata[\"array.string\"][5]", "metadata[\"array.array.mixed\"][2][0].count",
                     "metadata[\"array.nested.max\"][0][0][0][0][0][0][0].count", "tensor_infos[0].name",
                     "tensor_infos[3] \"q4_k.weight\".dims[1]", "tensor_infos[5] \"scalar.f32\".type",
                     "tensor_infos[6] \"bf16.cube\".offset" })
            Assert.IsTrue(fields.Contains(expected), $"no error named {expected} among: {string.Join(" | ", fields)}");
    }

    [TestMethod]
    public void Stories260KHeaderTruncatedAtEveryOffset()
    {
        byte[] bytes = File.ReadAllBytes(TestData.Path("stories260K.gguf"));
        long dataOffset;
        using (var full = GgufFile.FromBytes(bytes)) dataOffset = full.DataOffset;
        // Every offset through the header and the first tensor's first bytes, then a stride through the data.
        var offsets = Enumerable.Range(0, (int)dataOffset + 64).Concat(Enumerable.Range(0, 64).Select(i => (int)dataOffset + 64 + i * 18_311));
        foreach (int n in offsets.Where(n => n < bytes.Length))
        {
            var e = GgufProbe.Open(bytes[..n], "stories260K.gguf");
            Assert.IsNotNull(e, $"a {n}-byte prefix opened");
            Assert.IsTrue(e.Offset >= 0 && e.Offset <= n, $"prefix {n}: {e.Message}");
        }
    }

    [TestMethod]
    public void TruncatedFileOnDisk()
    {
        string dir = TestData.ScratchDirectory("gguf-truncated");
        try
        {
            byte[] bytes = File.ReadAllBytes(TestData.Path("stories260K.gguf"));
            string path = Path.Combine(dir, "cut.gguf");
            File.WriteAllBytes(path, bytes[..5000]);
            var e = Assert.ThrowsExactly<GgufFormatException>(() => GgufFile.Open(path));
            GgufProbe.CheckError(e, path, 5000);
            StringAssert.Contains(e.Field, "tokenizer.ggml.");
            StringAssert.Contains(e.Problem, "truncated");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
