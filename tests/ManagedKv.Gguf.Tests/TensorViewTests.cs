using ManagedKv.TestKit;

namespace ManagedKv.Gguf.Tests;

[TestClass]
public sealed unsafe class TensorViewTests
{
    [TestMethod]
    public void GgufViewsMatchTheReaderForEveryTensor()
    {
        using var file = GgufFile.Open(TestData.Path("models", "tiny-llama-Q4_K_M.gguf"));
        foreach (var t in file.Tensors)
        {
            var view = file.GetTensorView(t.Name);
            Assert.AreEqual(t.Name, view.Name);
            Assert.AreEqual(t.Type, view.Type);
            CollectionAssert.AreEqual(t.Dimensions, view.Dimensions);
            Assert.AreEqual(t.RowLength, view.RowLength);
            Assert.AreEqual(t.RowCount, view.RowCount);
            Assert.AreEqual(t.RowBytes, view.RowBytes);
            Assert.AreEqual(t.ByteSize, view.ByteSize);
            Assert.IsTrue(file.GetTensorPointer(t) == view.Data);
            Assert.IsTrue(file.GetTensorBytes(t).SequenceEqual(view.Bytes));
            Assert.IsTrue(file.GetRowBytes(t, t.RowCount - 1).SequenceEqual(view.Row(t.RowCount - 1)));
            Assert.AreEqual(file.FileName, view.SourceFile);
        }
        Assert.IsFalse(file.TryGetTensorView("no.such.tensor", out _));
        var e = Assert.ThrowsExactly<GgufFormatException>(() => file.GetTensorView("no.such.tensor"));
        Assert.AreEqual("tensor \"no.such.tensor\"", e.Field);
    }

    [TestMethod]
    public void QuantizedRowsAreWholeBlocks()
    {
        using var file = GgufFile.Open(TestData.Path("models", "tiny-llama-Q8_0.gguf"));
        var view = file.GetTensorView("blk.0.ffn_down.weight");   // ne = [768, 256], Q8_0: 24 blocks of 34 bytes per row
        CollectionAssert.AreEqual(new long[] { 768, 256 }, view.Dimensions);
        Assert.AreEqual(24 * 34, view.RowBytes);
        Assert.AreEqual(256, view.RowCount);
    }

    [TestMethod]
    public void ConstructorRejectsImpossibleLayouts()
    {
        byte* p = stackalloc byte[16];
        Assert.ThrowsExactly<ArgumentException>(() => new TensorView("x", GgmlType.Q8_0, [31], p));
        Assert.ThrowsExactly<ArgumentException>(() => new TensorView("x", GgmlType.F32, [1, 1, 1, 1, 1], p));
        Assert.ThrowsExactly<ArgumentException>(() => new TensorView("x", GgmlType.F32, [-1], p));
        Assert.ThrowsExactly<ArgumentException>(() => new TensorView("x", GgmlType.F32, [1L << 40, 1L << 40], p));
        Assert.ThrowsExactly<ArgumentException>(() => new TensorView("x", (GgmlType)99, [4], p));
        var ok = new TensorView("x", GgmlType.F16, [4, 2], p);
        Assert.AreEqual(16, ok.ByteSize);
        Assert.AreEqual("x F16 [4, 2]", ok.ToString());
    }

    [TestMethod]
    public void BytesRefusesTensorsOverTwoGiB()
    {
        byte* p = stackalloc byte[8];
        var huge = new TensorView("huge", GgmlType.F32, [1024, 1024, 1024], p);   // 4 GiB, never touched
        Assert.ThrowsExactly<InvalidOperationException>(() => _ = huge.Bytes.Length);
        Assert.AreEqual(4096, huge.Row(0).Length);
    }
}
