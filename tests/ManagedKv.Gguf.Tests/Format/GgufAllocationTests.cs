namespace ManagedKv.Gguf.Tests.Format;

/// <summary>
/// Files shaped to amplify allocation while opening: millions of tiny elements, keys or tensors. Opening must
/// cost at most a small constant per byte of file (<see cref="GgufProbe.AllocationFactor"/>); walking arrays
/// of strings or of arrays must cost nothing per element, since they stay lazy.
/// </summary>
[TestClass]
public sealed class GgufAllocationTests
{
    [TestMethod]
    public void MillionEmptyStringsCostNothingToOpen()
    {
        var raw = new RawGguf().Header(0, 1).Key("tokens", GgufValueType.Array).ArrayHeader(GgufValueType.String, 1_000_000);
        for (int i = 0; i < 1_000_000; i++) raw.U64(0);
        AssertOpensWithin(raw.ToArray(), maxAllocated: 64 * 1024, file => Assert.AreEqual(1_000_000, file.GetArray("tokens")!.ToStringArray().Length));
    }

    [TestMethod]
    public void HalfMillionEmptyNestedArraysCostNothingToOpen()
    {
        var raw = new RawGguf().Header(0, 1).Key("nested", GgufValueType.Array).ArrayHeader(GgufValueType.Array, 500_000);
        for (int i = 0; i < 500_000; i++) raw.ArrayHeader(GgufValueType.Array, 0);
        AssertOpensWithin(raw.ToArray(), maxAllocated: 64 * 1024, file => Assert.AreEqual(500_000, file.GetArray("nested")!.Elements().Count()));
    }

    [TestMethod]
    public void ManyTinyKeys()
    {
        const int N = 200_000;
        var raw = new RawGguf().Header(0, N);
        for (int i = 0; i < N; i++) raw.Key(i.ToString("x"), GgufValueType.UInt8).U8((byte)i);
        byte[] bytes = raw.ToArray();
        AssertOpensWithin(bytes, bytes.Length * GgufProbe.AllocationFactor, file => Assert.AreEqual(N, file.Metadata.Count));
    }

    [TestMethod]
    public void ManyTinyTensors()
    {
        const int N = 100_000;
        var raw = new RawGguf().Header(N, 0);
        for (int i = 0; i < N; i++) raw.TensorInfo(i.ToString("x"), GgmlType.F32, (ulong)i * 32);
        raw.PadTo(32).Zeros(N * 32);
        byte[] bytes = raw.ToArray();
        AssertOpensWithin(bytes, bytes.Length * GgufProbe.AllocationFactor, file => Assert.AreEqual(N, file.Tensors.Count));
    }

    [TestMethod]
    public void GarbageBehindMaximalCountsFailsCheaply()
    {
        // Counts as large as the remaining bytes could justify, followed by garbage: pre-sizing must not
        // trust them.
        var raw = new RawGguf().Header(tensors: 200_000, kvs: 300_000).Zeros(5_000_000);
        byte[] bytes = raw.ToArray();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.ThrowsExactly<GgufFormatException>(() => GgufFile.FromBytes(bytes));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.IsTrue(allocated < 1 << 20, $"allocated {allocated}");
    }

    [TestMethod]
    public void TensorAccessAllocatesNothing()
    {
        using var file = GgufFile.FromBytes(SampleGguf.Bytes());
        var t = file.GetTensor("q8_0.weight");
        long sum = 0;
        var passes = new List<long>();
        // A per-call allocation shows in every pass of 1000 calls; one clean pass (after a warm-up) is enough,
        // which keeps the test immune to a collection triggered by a parallel test skewing one reading.
        for (int pass = 0; pass < 5 && (passes.Count < 2 || passes[^1] != 0); pass++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                sum += file.GetRowBytes(t, i % t.RowCount)[0] + file.GetTensorBytes(t).Length + t.ByteSize + t.RowBytes;
            }
            passes.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.AreEqual(0, passes[^1], $"row/tensor access allocated, per pass: {string.Join(", ", passes)}");
        Assert.AreNotEqual(0, sum);
    }

    private static void AssertOpensWithin(byte[] bytes, long maxAllocated, Action<GgufFile> check)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var file = GgufFile.FromBytes(bytes);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Console.WriteLine($"{bytes.Length} bytes: allocated {allocated} ({(double)allocated / bytes.Length:F2} per byte)");
        Assert.IsTrue(allocated <= maxAllocated, $"opening {bytes.Length} bytes allocated {allocated} (limit {maxAllocated})");
        check(file);
    }
}
