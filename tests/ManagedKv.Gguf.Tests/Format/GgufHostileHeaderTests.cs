using ManagedKv.TestKit;

namespace ManagedKv.Gguf.Tests.Format;

/// <summary>Hand-made hostile headers: each must fail with the exact field and byte offset of the defect.</summary>
[TestClass]
public sealed class GgufHostileHeaderTests
{
    private const string Name = "hostile.gguf";

    private static GgufFormatException Rejects(RawGguf raw, string field, long offset, string? problem = null)
    {
        byte[] bytes = raw.ToArray();
        var e = GgufProbe.Open(bytes, Name);
        Assert.IsNotNull(e, $"opened, expected an error at {field}");
        Assert.AreEqual(field, e.Field, e.Message);
        Assert.AreEqual(offset, e.Offset, e.Message);
        if (problem is not null) StringAssert.Contains(e.Problem, problem);
        return e;
    }

    /// <summary>A valid header with one key holding what <paramref name="value"/> writes, then one F32 tensor.</summary>
    private static RawGguf OneKey(string key, GgufValueType type, Action<RawGguf> value) =>
        new RawGguf().Header(tensors: 0, kvs: 1).Key(key, type).Also(value);

    [TestMethod]
    public void BadMagic() => Rejects(new RawGguf().U32(0x58554747).U32(3).U64(0).U64(0), "magic", 0, "not a GGUF file");

    [TestMethod]
    [DataRow(1u, "obsolete")]
    [DataRow(4u, "unsupported GGUF version 4")]
    [DataRow(0x03000000u, "big-endian")]
    [DataRow(0u, "unsupported GGUF version 0")]
    public void BadVersion(uint version, string problem) =>
        Rejects(new RawGguf().Header(0, 0, version), "version", 4, problem);

    [TestMethod]
    public void HugeTensorCount() => Rejects(new RawGguf().Header(tensors: 1UL << 63, kvs: 0), "tensor_count", 8);

    [TestMethod]
    public void TensorCountBeyondTheBytes() => Rejects(new RawGguf().Header(tensors: 2, kvs: 0).Zeros(23), "tensor_count", 8);

    [TestMethod]
    [DataRow(ulong.MaxValue)]
    [DataRow(1UL << 40)]
    public void HugeKvCount(ulong count) => Rejects(new RawGguf().Header(tensors: 0, kvs: count), "metadata_kv_count", 16);

    [TestMethod]
    public void KeyLengthMax() => Rejects(new RawGguf().Header(0, 1).U64(ulong.MaxValue).Zeros(16), "metadata[0].key", 24, "runs past the end");

    [TestMethod]
    public void StringLengthJustPastEof()
    {
        var raw = OneKey("s", GgufValueType.String, _ => { }).Mark(out long at).U64(6).Bytes("abcde"u8);
        Rejects(raw, "metadata[\"s\"]", at, "string length 6 runs past");
        // One byte fewer fits exactly.
        Assert.IsNull(GgufProbe.Open(OneKey("s", GgufValueType.String, r => r.U64(5).Bytes("abcde"u8)).ToArray()));
    }

    [TestMethod]
    public void StringLengthOver2GiB() =>
        Rejects(OneKey("s", GgufValueType.String, _ => { }).Mark(out long at).U64(1UL << 31).Zeros(8), "metadata[\"s\"]", at);

    [TestMethod]
    [DataRow(GgufValueType.UInt32, 1UL << 61)]
    [DataRow(GgufValueType.Float64, ulong.MaxValue)]
    [DataRow(GgufValueType.UInt8, 4UL)]
    [DataRow(GgufValueType.String, 1UL << 40)]
    [DataRow(GgufValueType.String, 2UL)]
    [DataRow(GgufValueType.Array, 2UL)]
    public void ArrayCountBeyondTheBytes(GgufValueType elementType, ulong count)
    {
        // Three bytes of elements follow: too few for 4 uint8s, 2 strings (8 bytes each) or 2 arrays (12 each).
        var raw = OneKey("a", GgufValueType.Array, r => r.U32((uint)elementType)).Mark(out long at).U64(count).Zeros(3);
        Rejects(raw, "metadata[\"a\"].count", at);
    }

    [TestMethod]
    public void StringElementLengthPastEof()
    {
        var raw = OneKey("a", GgufValueType.Array, r => r.ArrayHeader(GgufValueType.String, 3).Str("x").Str(""))
            .Mark(out long at).U64(100).Zeros(10);
        Rejects(raw, "metadata[\"a\"][2]", at, "runs past");
    }

    [TestMethod]
    public void NestedArrays10000Deep()
    {
        var raw = OneKey("deep", GgufValueType.Array, _ => { }).Mark(out long start);
        for (int i = 0; i < 10_000; i++) raw.ArrayHeader(GgufValueType.Array, 1);
        raw.ArrayHeader(GgufValueType.Int32, 0);
        string field = "metadata[\"deep\"]" + string.Concat(Enumerable.Repeat("[0]", GgufFile.MaxArrayDepth));
        Rejects(raw, field, start + 12 * GgufFile.MaxArrayDepth, "nested deeper");
    }

    [TestMethod]
    public void NestedArraysAtTheDepthLimitOpen()
    {
        var raw = OneKey("deep", GgufValueType.Array, _ => { });
        for (int i = 1; i < GgufFile.MaxArrayDepth; i++) raw.ArrayHeader(GgufValueType.Array, 1);
        raw.ArrayHeader(GgufValueType.Int32, 2).U32(7).U32(8);
        using var file = GgufFile.FromBytes(raw.ToArray());
        var v = file.Metadata["deep"];
        for (int i = 1; i < GgufFile.MaxArrayDepth; i++) v = v.AsArray().Elements().Single();
        CollectionAssert.AreEqual(new[] { 7, 8 }, v.AsArray().ToInt32Array());
    }

    [TestMethod]
    [DataRow(13u)]
    [DataRow(uint.MaxValue)]
    public void UnknownValueType(uint type)
    {
        var raw = new RawGguf().Header(0, 1).Str("k").Mark(out long at).U32(type).Zeros(8);
        Rejects(raw, "metadata[\"k\"].type", at, $"unknown value type {type}");
    }

    [TestMethod]
    public void UnknownArrayElementType()
    {
        var raw = OneKey("a", GgufValueType.Array, r => r.ArrayHeader(GgufValueType.Array, 1)).Mark(out long at).U32(77).U64(0);
        Rejects(raw, "metadata[\"a\"][0].element_type", at, "unknown array element type 77");
    }

    [TestMethod]
    public void BoolByteTwo()
    {
        Rejects(OneKey("b", GgufValueType.Bool, _ => { }).Mark(out long at).U8(2), "metadata[\"b\"]", at, "bool byte is 2");
        var array = OneKey("ba", GgufValueType.Array, r => r.ArrayHeader(GgufValueType.Bool, 3).U8(1)).Mark(out long at2).U8(2).U8(0);
        Rejects(array, "metadata[\"ba\"][1]", at2, "bool byte is 2");
    }

    [TestMethod]
    public void DuplicateKey()
    {
        var raw = new RawGguf().Header(0, 2).Key("k", GgufValueType.UInt8).U8(1).Mark(out long at).Key("k", GgufValueType.UInt8).U8(2);
        Rejects(raw, "metadata[\"k\"]", at, "duplicate metadata key");
    }

    [TestMethod]
    [DataRow(0u)]
    [DataRow(3u)]
    [DataRow(48u)]
    [DataRow(1u << 21)]
    public void BadAlignmentValue(uint alignment)
    {
        var raw = new RawGguf().Header(0, 1).Key(GgufFile.AlignmentKey, GgufValueType.UInt32).Mark(out long at).U32(alignment);
        Rejects(raw, "metadata[\"general.alignment\"]", at, $"alignment {alignment}");
    }

    [TestMethod]
    [DataRow(GgufValueType.Int32)]
    [DataRow(GgufValueType.UInt64)]
    [DataRow(GgufValueType.String)]
    public void AlignmentOfTheWrongType(GgufValueType type)
    {
        var raw = new RawGguf().Header(0, 1).Str(GgufFile.AlignmentKey).Mark(out long at).U32((uint)type);
        if (type == GgufValueType.String) raw.Str("32"); else raw.Zeros(GgufValueTypes.FixedSize(type));
        Rejects(raw, "metadata[\"general.alignment\"].type", at, "must be uint32");
    }

    /// <summary>One tensor entry built by <paramref name="entry"/>, then enough zero data for anything sane.</summary>
    private static RawGguf OneTensor(Action<RawGguf> entry) => new RawGguf().Header(1, 0).Str("t").Also(entry);

    [TestMethod]
    [DataRow(4u)]
    [DataRow(31u)]
    [DataRow(1000u)]
    public void UnknownTensorType(uint type)
    {
        var raw = OneTensor(r => r.U32(1).I64(32)).Mark(out long at).U32(type).U64(0).PadTo(32).Zeros(256);
        Rejects(raw, "tensor_infos[0] \"t\".type", at, $"unknown tensor type {type}");
    }

    [TestMethod]
    public void FiveDimensions()
    {
        var raw = new RawGguf().Header(1, 0).Str("t").Mark(out long at).U32(5).Zeros(60);
        Rejects(raw, "tensor_infos[0] \"t\".n_dims", at, "5 dimensions");
    }

    [TestMethod]
    public void DimensionProductOverflows()
    {
        var raw = OneTensor(r => r.U32(2).I64(1L << 32)).Mark(out long at).I64(1L << 32).U32(0).U64(0);
        Rejects(raw, "tensor_infos[0] \"t\".dims[1]", at, "overflows int64");
    }

    [TestMethod]
    public void DimensionTwoToThe63()
    {
        var raw = OneTensor(r => r.U32(1)).Mark(out long at).U64(1UL << 63).U32(0).U64(0);
        Rejects(raw, "tensor_infos[0] \"t\".dims[0]", at, "negative");
    }

    [TestMethod]
    public void ByteSizeOverflowsBehindAZeroDimension()
    {
        // 2^62 F32 elements per row: the element count is 0, but the row's byte size (2^64) is not representable.
        var raw = OneTensor(r => r.U32(2)).Mark(out long at).I64(1L << 62).I64(0).U32((uint)GgmlType.F32).U64(0);
        Rejects(raw, "tensor_infos[0] \"t\".dims", at, "byte size overflows");
    }

    [TestMethod]
    public void RowNotAWholeNumberOfBlocks()
    {
        var raw = OneTensor(r => r.U32(2)).Mark(out long at).I64(33).I64(2).U32((uint)GgmlType.Q8_0).U64(0).PadTo(32).Zeros(256);
        Rejects(raw, "tensor_infos[0] \"t\".dims[0]", at, "block size 32");
    }

    [TestMethod]
    public void OffsetNotAligned()
    {
        var raw = OneTensor(r => r.U32(1).I64(4).U32(0)).Mark(out long at).U64(4).PadTo(32).Zeros(64);
        Rejects(raw, "tensor_infos[0] \"t\".offset", at, "not a multiple of the alignment 32");
    }

    [TestMethod]
    public void TensorDataPastEof()
    {
        var raw = OneTensor(r => r.U32(1).I64(16).U32(0)).Mark(out long at).U64(0).PadTo(32).Zeros(63);
        Rejects(raw, "tensor_infos[0] \"t\".offset", at, "lies outside the file");
    }

    [TestMethod]
    [DataRow(long.MaxValue - 31)]     // offset + size would overflow int64: must be caught without overflowing
    [DataRow(1L << 62)]
    public void OffsetPlusSizeOverflows(long offset)
    {
        long aligned = offset / 32 * 32;
        var raw = OneTensor(r => r.U32(1).I64(64).U32(0)).Mark(out long at).I64(aligned).PadTo(32).Zeros(256);
        Rejects(raw, "tensor_infos[0] \"t\".offset", at, "lies outside the file");
    }

    [TestMethod]
    public void OffsetAbove2To63() =>
        Rejects(OneTensor(r => r.U32(1).I64(4).U32(0)).Mark(out long at).U64(ulong.MaxValue - 31), "tensor_infos[0] \"t\".offset", at, "overflows int64");

    [TestMethod]
    public void OverlappingTensors()
    {
        var raw = new RawGguf().Header(2, 0)
            .TensorInfo("a", GgmlType.F32, 0, 32)
            .Str("b").U32(1).I64(32).U32(0).Mark(out long at).U64(64)
            .PadTo(32).Zeros(512);
        Rejects(raw, "tensor_infos[1] \"b\".offset", at, "overlaps tensor \"a\"");
    }

    [TestMethod]
    public void OverlapHiddenBehindAnEmptyTensor()
    {
        // a = [0, 128); e is empty at 32; c = [64, 96) lies inside a. Comparing each tensor only with its
        // predecessor by offset (e, which is empty) missed this.
        var raw = new RawGguf().Header(3, 0)
            .TensorInfo("a", GgmlType.F32, 0, 32)
            .TensorInfo("e", GgmlType.F32, 32, 0, 4)
            .Str("c").U32(1).I64(8).U32(0).Mark(out long at).U64(64)
            .PadTo(32).Zeros(512);
        Rejects(raw, "tensor_infos[2] \"c\".offset", at, "overlaps tensor \"a\"");
    }

    [TestMethod]
    public void DuplicateTensorName()
    {
        var raw = new RawGguf().Header(2, 0).TensorInfo("t", GgmlType.F32, 0, 8).Mark(out long at).TensorInfo("t", GgmlType.F32, 32, 8).PadTo(32).Zeros(64);
        Rejects(raw, "tensor_infos[1] \"t\".name", at, "duplicate tensor name");
    }

    [TestMethod]
    public void GapsAndAnyOrderAreAccepted()
    {
        // The reader (unlike llama.cpp) accepts any non-overlapping layout; CopyFrom then writes it canonically.
        var raw = new RawGguf().Header(2, 0).TensorInfo("late", GgmlType.F32, 128, 8).TensorInfo("early", GgmlType.F32, 0, 8).PadTo(32);
        long dataAt = raw.Position;
        raw.Bytes(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()).Zeros(96).Bytes(Enumerable.Range(100, 32).Select(i => (byte)i).ToArray());
        using var file = GgufFile.FromBytes(raw.ToArray());
        Assert.AreEqual(dataAt, file.DataOffset);
        Assert.AreEqual(100, file.GetTensorBytes(file.GetTensor("late"))[0]);
        byte[] rewritten = SampleGguf.ToBytes(GgufWriter.CopyFrom(file));
        using var copy = GgufFile.FromBytes(rewritten);
        GgufWriterTests.AssertCanonicalLayout(copy, rewritten);
        CollectionAssert.AreEqual(file.GetTensorBytes(file.GetTensor("late")).ToArray(), copy.GetTensorBytes(copy.GetTensor("late")).ToArray());
        CollectionAssert.AreEqual(file.GetTensorBytes(file.GetTensor("early")).ToArray(), copy.GetTensorBytes(copy.GetTensor("early")).ToArray());
    }

    [TestMethod]
    public void EmptyAndMissingFilesOnDisk()
    {
        string dir = TestData.ScratchDirectory("gguf-hostile");
        try
        {
            string empty = Path.Combine(dir, "empty.gguf");
            File.WriteAllBytes(empty, []);
            var e = Assert.ThrowsExactly<GgufFormatException>(() => GgufFile.Open(empty));
            Assert.AreEqual("magic", e.Field);
            Assert.AreEqual(0, e.Offset);
            GgufProbe.CheckError(e, empty, 0);

            string bad = Path.Combine(dir, "bad.gguf");
            File.WriteAllBytes(bad, new RawGguf().Header(1UL << 63, 0).ToArray());
            e = Assert.ThrowsExactly<GgufFormatException>(() => GgufFile.Open(bad));
            Assert.AreEqual("tensor_count", e.Field);
            GgufProbe.CheckError(e, bad, 24);

            string hostileArray = Path.Combine(dir, "array.gguf");
            File.WriteAllBytes(hostileArray, OneKey("a", GgufValueType.Array, r => r.ArrayHeader(GgufValueType.String, 1UL << 50)).ToArray());
            e = Assert.ThrowsExactly<GgufFormatException>(() => GgufFile.Open(hostileArray));
            Assert.AreEqual("metadata[\"a\"].count", e.Field);

            Assert.ThrowsExactly<FileNotFoundException>(() => GgufFile.Open(Path.Combine(dir, "missing.gguf")));
            Assert.ThrowsExactly<FileNotFoundException>(() => GgufFile.Open(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

internal static class RawGgufExtensions
{
    /// <summary>Lets a builder chain run a caller-supplied step.</summary>
    public static RawGguf Also(this RawGguf raw, Action<RawGguf> step)
    {
        step(raw);
        return raw;
    }
}
