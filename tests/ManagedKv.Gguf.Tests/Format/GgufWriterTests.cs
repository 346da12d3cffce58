using System.Buffers.Binary;

namespace ManagedKv.Gguf.Tests.Format;

[TestClass]
public sealed class GgufWriterTests
{
    [TestMethod]
    public void RoundTripsEveryValueTypeAndTensor()
    {
        byte[] bytes = SampleGguf.Bytes();
        using var file = GgufFile.FromBytes(bytes, "sample.gguf");

        Assert.AreEqual(3u, file.Version);
        Assert.AreEqual(32, file.Alignment);
        var expected = SampleGguf.Metadata().ToList();
        Assert.AreEqual(expected.Count, file.MetadataInOrder.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.AreEqual(expected[i].Key, file.MetadataInOrder[i].Key);
            AssertSameValue(expected[i].Value, file.MetadataInOrder[i].Value, expected[i].Key);
        }

        Assert.AreEqual(SampleGguf.TensorSpecs.Length, file.Tensors.Count);
        for (int i = 0; i < SampleGguf.TensorSpecs.Length; i++)
        {
            var (name, type, dims) = SampleGguf.TensorSpecs[i];
            var t = file.Tensors[i];
            Assert.AreEqual(name, t.Name);
            Assert.AreEqual(type, t.Type);
            CollectionAssert.AreEqual(dims, t.Dimensions);
            CollectionAssert.AreEqual(SampleGguf.TensorBytes(name, t.ByteSize), file.GetTensorBytes(t).ToArray(), name);
        }
        GgufProbe.Exercise(file);
    }

    [TestMethod]
    public void ScalarBitsSurviveExactly()
    {
        using var file = GgufFile.FromBytes(SampleGguf.Bytes());
        // NaN payloads and -0 are compared through their bytes in the file, not through float equality.
        Assert.AreEqual(0x7FC01234u, BitConverter.SingleToUInt32Bits(file.Metadata["f32.nan_payload"].AsSingle()));
        Assert.AreEqual(0x8000_0000u, BitConverter.SingleToUInt32Bits(file.Metadata["f32.negzero"].AsSingle()));
        Assert.AreEqual(0x7FF8_0000_DEAD_BEEFUL, BitConverter.DoubleToUInt64Bits(file.Metadata["f64.nan_payload"].AsDouble()));
        Assert.AreEqual(ulong.MaxValue.ToString(), file.Metadata["u64.max"].ToString());
        Assert.AreEqual(long.MinValue, file.Metadata["i64.min"].AsInt64());
        Assert.AreEqual(-128, file.Metadata["i8.min"].AsInt32());
        Assert.AreEqual(short.MinValue, file.Metadata["i16.min"].AsInt32());
        Assert.AreEqual("3.1415927", file.Metadata["f32.pi"].ToString());
        CollectionAssert.AreEqual(new[] { "", "a", "ünï", "", "<0x0A>", "last" }, file.GetArray("array.string")!.ToStringArray());
        CollectionAssert.AreEqual(new[] { 1, -2, int.MaxValue }, file.GetArray("array.i32")!.ToInt32Array());
        Assert.AreEqual("unicode key", file.GetString("ключ.名前.🔑"));
        Assert.AreEqual("empty key", file.GetString(""));
    }

    [TestMethod]
    public void LayoutMatchesGgufWrite()
    {
        byte[] bytes = SampleGguf.Bytes();
        using var file = GgufFile.FromBytes(bytes);
        AssertCanonicalLayout(file, bytes);
    }

    [TestMethod]
    [DataRow(1u)]
    [DataRow(8u)]
    [DataRow(64u)]
    [DataRow(4096u)]
    public void HonoursGeneralAlignment(uint alignment)
    {
        byte[] bytes = SampleGguf.Bytes(alignment);
        using var file = GgufFile.FromBytes(bytes);
        Assert.AreEqual((int)alignment, file.Alignment);
        AssertCanonicalLayout(file, bytes);
        foreach (var t in file.Tensors)
            CollectionAssert.AreEqual(SampleGguf.TensorBytes(t.Name, t.ByteSize), file.GetTensorBytes(t).ToArray());
    }

    [TestMethod]
    public void RewritingAReadFileReproducesItsBytes()
    {
        byte[] first = SampleGguf.Bytes(64);
        using var file = GgufFile.FromBytes(first);
        CollectionAssert.AreEqual(first, SampleGguf.ToBytes(GgufWriter.CopyFrom(file)));
        // Decoding every array into memory and encoding it again gives the same bytes too.
        CollectionAssert.AreEqual(first, SampleGguf.ToBytes(GgufCopyTests.CopyDecoded(file)));
    }

    [TestMethod]
    public void NonSeekableStreamGetsTheSameBytes()
    {
        byte[] expected = SampleGguf.Bytes();
        using var sink = new ForwardOnlyStream();
        SampleGguf.CreateWriter().WriteTo(sink);
        CollectionAssert.AreEqual(expected, sink.Inner.ToArray());
    }

    [TestMethod]
    public void WritesToPathAtomically()
    {
        string dir = TestKit.TestData.ScratchDirectory("gguf-writer");
        try
        {
            string path = Path.Combine(dir, "model.gguf");
            SampleGguf.CreateWriter().WriteTo(path);
            CollectionAssert.AreEqual(SampleGguf.Bytes(), File.ReadAllBytes(path));
            using (var file = GgufFile.Open(path)) GgufProbe.Exercise(file);

            // A failing callback leaves the existing file untouched and no temporary file behind.
            var failing = new GgufWriter();
            failing.AddTensor("t", GgmlType.F32, [4], s => s.Write(new byte[3]));
            Assert.ThrowsExactly<ArgumentException>(() => failing.WriteTo(path));
            CollectionAssert.AreEqual(SampleGguf.Bytes(), File.ReadAllBytes(path));
            CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void CallbackByteCountIsEnforced()
    {
        var tooFew = new GgufWriter();
        tooFew.AddTensor("t", GgmlType.F16, [8], s => s.Write(new byte[15]));
        var e = Assert.ThrowsExactly<ArgumentException>(() => tooFew.WriteTo(Stream.Null));
        StringAssert.Contains(e.Message, "15");
        StringAssert.Contains(e.Message, "16");

        var tooMany = new GgufWriter();
        tooMany.AddTensor("t", GgmlType.F16, [8], s => s.Write(new byte[17]));
        Assert.ThrowsExactly<ArgumentException>(() => tooMany.WriteTo(Stream.Null));

        // Swallowing the refusal inside the callback does not make the file valid.
        var swallowed = new GgufWriter();
        swallowed.AddTensor("t", GgmlType.F16, [8], s =>
        {
            s.Write(new byte[16]);
            try { s.WriteByte(1); } catch (ArgumentException) { }
        });
        Assert.ThrowsExactly<ArgumentException>(() => swallowed.WriteTo(Stream.Null));

        var wrongMemory = new GgufWriter();
        Assert.ThrowsExactly<ArgumentException>(() => wrongMemory.AddTensor("t", GgmlType.Q8_0, [32], new byte[33]));
        Assert.ThrowsExactly<ArgumentException>(() => wrongMemory.AddTensor("t", GgmlType.Q8_0, [32], new byte[33].AsMemory(0, 33)));
        wrongMemory.AddTensor("t", GgmlType.Q8_0, [32], new byte[34]);
    }

    [TestMethod]
    public void StreamsTensorDataWithoutBufferingIt()
    {
        const int Chunk = 1 << 20, Chunks = 64;
        var w = new GgufWriter();
        w.AddMetadata("general.architecture", GgufValue.From("llama"));
        byte[] chunk = new byte[Chunk];
        w.AddTensor("big", GgmlType.I8, [Chunk, Chunks], s =>
        {
            for (int i = 0; i < Chunks; i++) s.Write(chunk);
        });
        var counter = new ForwardOnlyStream(keep: false);
        long before = GC.GetAllocatedBytesForCurrentThread();
        w.WriteTo(counter);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.IsTrue(allocated < 1 << 20, $"writing a 64 MiB tensor allocated {allocated} bytes");
        Assert.AreEqual(128L + Chunk * Chunks, counter.Count);   // 112-byte header padded to 32
    }

    [TestMethod]
    public void MetadataEditingKeepsOrderAndAlignment()
    {
        var w = new GgufWriter();
        w.AddMetadata("a", GgufValue.From(1));
        w.AddMetadata(GgufFile.AlignmentKey, GgufValue.From(64u));
        w.AddMetadata("b", GgufValue.From(2));
        Assert.AreEqual(64, w.Alignment);
        Assert.ThrowsExactly<ArgumentException>(() => w.AddMetadata("a", GgufValue.From(3)));
        w.SetMetadata("a", GgufValue.From("replaced"));
        w.SetMetadata("c", GgufValue.From(true));
        CollectionAssert.AreEqual(new[] { "a", GgufFile.AlignmentKey, "b", "c" }, w.Metadata.Select(kv => kv.Key).ToArray());
        Assert.IsTrue(w.RemoveMetadata(GgufFile.AlignmentKey));
        Assert.IsFalse(w.RemoveMetadata(GgufFile.AlignmentKey));
        Assert.AreEqual(32, w.Alignment);
        w.AddTensor("t", GgmlType.F32, [3], new byte[12]);
        using var file = GgufFile.FromBytes(SampleGguf.ToBytes(w));
        Assert.AreEqual("replaced", file.GetString("a"));
        Assert.AreEqual(32, file.Alignment);
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, file.MetadataInOrder.Select(kv => kv.Key).ToArray());
    }

    [TestMethod]
    public void RejectsWhatLlamaCppWouldNotLoad()
    {
        var w = new GgufWriter();
        Assert.ThrowsExactly<ArgumentException>(() => w.AddMetadata(GgufFile.AlignmentKey, GgufValue.From(0u)));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddMetadata(GgufFile.AlignmentKey, GgufValue.From(3u)));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddMetadata(GgufFile.AlignmentKey, GgufValue.From(32)));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddMetadata(GgufFile.AlignmentKey, GgufValue.From(1u << 21)));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddMetadata("bad\uD800key", GgufValue.From(1)));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddMetadata("bad.value", GgufValue.From("x\uDC00")));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddMetadata("too.deep", SampleGguf.Nested(GgufFile.MaxArrayDepth + 1)));
        w.AddMetadata("deep.enough", SampleGguf.Nested(GgufFile.MaxArrayDepth));
        Assert.AreEqual(32, w.Alignment);

        byte[] data = new byte[4096];
        Assert.ThrowsExactly<ArgumentException>(() => w.AddTensor("t", (GgmlType)4, [32], data.AsMemory(0, 0)));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddTensor("t", GgmlType.F32, [1, 1, 1, 1, 1], data.AsMemory(0, 4)));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddTensor("t", GgmlType.F32, [0], data.AsMemory(0, 0)));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddTensor("t", GgmlType.F32, [-1], data.AsMemory(0, 0)));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddTensor("t", GgmlType.F32, [1L << 32, 1L << 32], s => { }));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddTensor("t", GgmlType.F64, [1L << 61], s => { }));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddTensor("t", GgmlType.Q4_K, [128], data.AsMemory(0, 72)));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddTensor(new string('n', 64), GgmlType.F32, [1], data.AsMemory(0, 4)));
        w.AddTensor(new string('n', 63), GgmlType.F32, [1], data.AsMemory(0, 4));
        w.AddTensor("t", GgmlType.F32, [1], data.AsMemory(0, 4));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddTensor("t", GgmlType.F32, [1], data.AsMemory(0, 4)));
        Assert.AreEqual(2, w.TensorCount);
    }

    [TestMethod]
    public void ValueConstructorsRejectImpossibleBits()
    {
        Assert.ThrowsExactly<ArgumentException>(() => GgufValue.FromBits(GgufValueType.UInt8, 256));
        Assert.ThrowsExactly<ArgumentException>(() => GgufValue.FromBits(GgufValueType.Int8, 128));
        Assert.ThrowsExactly<ArgumentException>(() => GgufValue.FromBits(GgufValueType.Bool, 2));
        Assert.ThrowsExactly<ArgumentException>(() => GgufValue.FromBits(GgufValueType.Float32, 1UL << 32));
        Assert.ThrowsExactly<ArgumentException>(() => GgufValue.FromBits(GgufValueType.String, 0));
        Assert.ThrowsExactly<ArgumentException>(() => GgufValue.FromBits(GgufValueType.Array, 0));
        Assert.ThrowsExactly<ArgumentException>(() => GgufValue.FromBits((GgufValueType)13, 0));
        Assert.AreEqual(-1, GgufValue.FromBits(GgufValueType.Int8, ulong.MaxValue).AsInt32());
        Assert.ThrowsExactly<ArgumentNullException>(() => GgufValue.FromString(null!));
        Assert.ThrowsExactly<ArgumentException>(() => GgufArray.Of(GgufValueType.Int32, [GgufValue.From(1u)]));
        Assert.ThrowsExactly<ArgumentException>(() => GgufArray.Of((GgufValueType)99, []));
        Assert.ThrowsExactly<ArgumentException>(() => GgufArray.Of(GgufValueType.Int32, [null!]));
    }

    /// <summary>The layout of llama.cpp's gguf_write: aligned data section, contiguous padded tensors, zero padding.</summary>
    internal static void AssertCanonicalLayout(GgufFile file, byte[] bytes)
    {
        int a = file.Alignment;
        Assert.AreEqual(0, file.DataOffset % a);
        long expectedOffset = 0;
        foreach (var t in file.Tensors)
        {
            Assert.AreEqual(expectedOffset, t.RelativeOffset, t.Name);
            long end = t.FileOffset + t.ByteSize;
            expectedOffset += (t.ByteSize + a - 1) / a * a;
            long paddedEnd = file.DataOffset + expectedOffset;
            Assert.IsTrue(bytes.AsSpan((int)end, (int)(paddedEnd - end)).IndexOfAnyExcept((byte)0) < 0, $"padding after {t.Name}");
        }
        Assert.AreEqual(file.DataOffset + expectedOffset, bytes.LongLength);
        Assert.AreEqual(GgufFile.Magic, BinaryPrimitives.ReadUInt32LittleEndian(bytes));
    }

    private static void AssertSameValue(GgufValue expected, GgufValue actual, string where)
    {
        Assert.AreEqual(expected.Type, actual.Type, where);
        switch (expected.Type)
        {
            case GgufValueType.String:
                Assert.AreEqual(expected.AsString(), actual.AsString(), where);
                break;
            case GgufValueType.Array:
            {
                var e = expected.AsArray();
                var a = actual.AsArray();
                Assert.AreEqual(e.ElementType, a.ElementType, where);
                Assert.AreEqual(e.Count, a.Count, where);
                var ae = a.Elements().ToList();
                int i = 0;
                foreach (var element in e.Elements()) AssertSameValue(element, ae[i], $"{where}[{i++}]");
                break;
            }
            case GgufValueType.Float32:
                Assert.AreEqual(BitConverter.SingleToUInt32Bits(expected.AsSingle()), BitConverter.SingleToUInt32Bits(actual.AsSingle()), where);
                break;
            case GgufValueType.Float64:
                Assert.AreEqual(BitConverter.DoubleToUInt64Bits(expected.AsDouble()), BitConverter.DoubleToUInt64Bits(actual.AsDouble()), where);
                break;
            default:
                Assert.AreEqual(expected.ToString(), actual.ToString(), where);
                break;
        }
    }

    /// <summary>A stream that can only be written forward (like a pipe), optionally keeping what it gets.</summary>
    private sealed class ForwardOnlyStream(bool keep = true) : Stream
    {
        public MemoryStream Inner { get; } = new();
        public long Count { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (keep) Inner.Write(buffer);
            Count += buffer.Length;
        }
    }
}
