using System.Buffers.Binary;
using ManagedKv.Gguf.Safetensors;
using ManagedKv.TestKit;

namespace ManagedKv.Gguf.Tests.Safetensors;

[TestClass]
public sealed class SafetensorsRoundTripTests
{
    private static float[] Ramp(int n, float scale = 0.25f) => Enumerable.Range(0, n).Select(i => (i - n / 2) * scale).ToArray();

    [TestMethod]
    public void WrittenTensorsReadBackAsGgmlOrderedViews()
    {
        float[] matrix = Ramp(3 * 5);          // PyTorch shape (3, 5): 3 rows of 5
        float[] cube = Ramp(2 * 3 * 4, 0.5f);  // (2, 3, 4)
        Half[] half = Ramp(6).Select(v => (Half)v).ToArray();
        float[] bf = [1f, -2.5f, 3.140625f, 0f];
        var writer = new SafetensorsWriter();
        writer.AddF32("matrix", matrix, 3, 5)
              .AddF32("cube", cube, 2, 3, 4)
              .AddF16("half", half, 6)
              .AddBF16("bf", bf, 2, 2)
              .AddF32("scalar", [42f])
              .AddF32("empty", [], 0, 7);
        writer.Metadata["format"] = "pt";
        writer.Metadata["note"] = "ünïcode ✓";

        using var file = SafetensorsFile.FromBytes(writer.ToArray(), "roundtrip");
        Assert.AreEqual(0, file.HeaderLength % 8, "header is padded to 8 bytes");
        CollectionAssert.AreEqual(new[] { "matrix", "cube", "half", "bf", "scalar", "empty" }, file.Tensors.Select(t => t.Name).ToArray());
        Assert.AreEqual("pt", file.Metadata["format"]);
        Assert.AreEqual("ünïcode ✓", file.Metadata["note"]);

        var m = file.GetTensorView("matrix");
        Assert.AreEqual(GgmlType.F32, m.Type);
        CollectionAssert.AreEqual(new long[] { 5, 3 }, m.Dimensions);   // ggml order: ne[0] = 5 contiguous
        Assert.AreEqual(5, m.RowLength);
        Assert.AreEqual(3, m.RowCount);
        Assert.AreEqual(20, m.RowBytes);
        Assert.AreEqual(60, m.ByteSize);
        Assert.AreEqual(matrix[2 * 5 + 4], BinaryPrimitives.ReadSingleLittleEndian(m.Row(2)[16..]));
        CollectionAssert.AreEqual(matrix, Floats(m.Bytes));

        var c = file.GetTensorView("cube");
        CollectionAssert.AreEqual(new long[] { 4, 3, 2 }, c.Dimensions);
        Assert.AreEqual(6, c.RowCount);
        CollectionAssert.AreEqual(cube, Floats(c.Bytes));

        var h = file.GetTensorView("half");
        Assert.AreEqual(GgmlType.F16, h.Type);
        for (int i = 0; i < half.Length; i++) Assert.AreEqual(half[i], BinaryPrimitives.ReadHalfLittleEndian(h.Bytes[(2 * i)..]));

        var b = file.GetTensorView("bf");
        Assert.AreEqual(GgmlType.BF16, b.Type);
        for (int i = 0; i < bf.Length; i++)   // all four values are exact in bfloat16
            Assert.AreEqual(bf[i], BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(b.Bytes[(2 * i)..]) << 16));

        var s = file.GetTensorView("scalar");
        Assert.AreEqual(0, s.Dimensions.Length);
        Assert.AreEqual(1, s.RowCount);
        Assert.AreEqual(42f, BinaryPrimitives.ReadSingleLittleEndian(s.Bytes));

        var e = file.GetTensorView("empty");
        CollectionAssert.AreEqual(new long[] { 7, 0 }, e.Dimensions);
        Assert.AreEqual(0, e.ByteSize);
        Assert.AreEqual(0, e.Bytes.Length);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => e.Row(0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => m.Row(3));

        Assert.IsFalse(file.TryGetTensorView("nope", out _));
        var missing = Assert.ThrowsExactly<GgufFormatException>(() => file.GetTensorView("nope"));
        StringAssert.Contains(missing.Message, "nope");
    }

    [TestMethod]
    public void FileOnDiskIsMemoryMappedAndMatchesWriter()
    {
        string dir = TestData.ScratchDirectory("safetensors-file");
        string path = Path.Combine(dir, "model.safetensors");
        var tensors = new Dictionary<string, (float[], long[])>
        {
            ["w"] = (Ramp(8), [2, 4]),
            ["v"] = (Ramp(3), [3]),
        };
        SafetensorsWriter.WriteF32(path, tensors, new Dictionary<string, string> { ["k"] = "v" });
        using var file = SafetensorsFile.Open(path);
        Assert.AreEqual(new FileInfo(path).Length, file.FileSize);
        Assert.AreEqual(file.FileSize, file.DataOffset + 11 * 4);
        CollectionAssert.AreEqual(Ramp(8), Floats(file.GetTensorView("w").Bytes));
        CollectionAssert.AreEqual(Ramp(3), Floats(file.GetTensorView("v").Bytes));
        Assert.AreEqual(path, file.GetTensorView("v").SourceFile);
        Assert.AreEqual("v", file.Metadata["k"]);
    }

    [TestMethod]
    public void UnsupportedDtypeOpensButIsRejectedWhenUsed()
    {
        var writer = new SafetensorsWriter()
            .Add("ids", "I64", [2], new byte[16])
            .Add("mask", "BOOL", [3], new byte[3])
            .AddF32("ok", [1f]);
        using var file = SafetensorsFile.FromBytes(writer.ToArray(), "dtypes");
        Assert.AreEqual("I64", file.FindTensor("ids")!.DType);
        Assert.IsNull(file.FindTensor("ids")!.Type);
        var e = Assert.ThrowsExactly<GgufFormatException>(() => file.GetTensorView("ids"));
        StringAssert.Contains(e.Problem, "unsupported dtype I64");
        Assert.AreEqual("header[\"ids\"].dtype", e.Field);
        Assert.ThrowsExactly<GgufFormatException>(() => file.TryGetTensorView("mask", out _));
        Assert.IsTrue(file.TryGetTensorView("ok", out var ok));
        Assert.AreEqual(GgmlType.F32, ok.Type);
    }

    [TestMethod]
    [DataRow(1f, (ushort)0x3F80)]
    [DataRow(-2f, (ushort)0xC000)]
    [DataRow(1.00390625f, (ushort)0x3F80)]   // exactly halfway between 0x3F80 and 0x3F81: ties to even
    [DataRow(1.01171875f, (ushort)0x3F82)]   // halfway between 0x3F81 and 0x3F82: ties to even (up)
    [DataRow(1.0040f, (ushort)0x3F81)]       // just above halfway: rounds up
    [DataRow(float.PositiveInfinity, (ushort)0x7F80)]
    [DataRow(3.4e38f, (ushort)0x7F80)]       // rounds past the largest bfloat16 to infinity, as PyTorch does
    public void BFloat16RoundsToNearestEven(float value, ushort expected) =>
        Assert.AreEqual(expected, SafetensorsWriter.ToBFloat16(value));

    [TestMethod]
    public void BFloat16KeepsNaN() =>
        Assert.IsTrue(float.IsNaN(BitConverter.UInt32BitsToSingle((uint)SafetensorsWriter.ToBFloat16(float.NaN) << 16)));

    [TestMethod]
    public void WriterRejectsBadInput()
    {
        var w = new SafetensorsWriter().AddF32("a", [1f]);
        Assert.ThrowsExactly<ArgumentException>(() => w.AddF32("a", [1f]));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddF32("b", [1f, 2f], 3));
        Assert.ThrowsExactly<ArgumentException>(() => w.Add("c", "Q4", [1], new byte[1]));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddF32("__metadata__", [1f]));
        Assert.ThrowsExactly<ArgumentException>(() => w.AddF32("d", [], -1));
    }

    internal static float[] Floats(ReadOnlySpan<byte> bytes)
    {
        var result = new float[bytes.Length / 4];
        for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
        return result;
    }
}
