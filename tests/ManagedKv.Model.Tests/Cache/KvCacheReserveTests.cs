using ManagedKv.Model.Cache;

namespace ManagedKv.Model.Tests.Cache;

/// <summary>
/// <see cref="KvCache.Reserve"/>: a batch grows the buffers once (exactly, when empty) instead of doubling through
/// them, and leaves the held rows unchanged.
/// </summary>
[TestClass]
public sealed class KvCacheReserveTests
{
    [TestMethod]
    [DataRow(KvStorageType.F32)]
    [DataRow(KvStorageType.F16)]
    public void ReservingABatchSizesTheBuffersExactlyAndKeepsTheRows(KvStorageType storage)
    {
        const int tokens = 37, keyDim = 8, valueDim = 4;
        var reserved = new KvCache(layers: 2, kvHeads: 2, keyDim, valueDim, storage);
        var grown = new KvCache(layers: 2, kvHeads: 2, keyDim, valueDim, storage);
        reserved.Reserve(0, tokens);
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < 2; h++)
            {
                float[] key = Enumerable.Range(0, keyDim).Select(i => (float)(t * 100 + h * 10 + i)).ToArray();
                float[] value = Enumerable.Range(0, valueDim).Select(i => (float)(-t - h - i)).ToArray();
                reserved.Append(0, h, 3 * t, key, value);
                grown.Append(0, h, 3 * t, key, value);
            }

        int bytes = storage == KvStorageType.F32 ? 4 : 2;
        long exact = 2L * tokens * ((keyDim + valueDim) * bytes + sizeof(int));
        Assert.AreEqual(exact, reserved.AllocatedBytes, "an empty cache reserves exactly the batch");
        Assert.AreEqual(reserved.ByteCount, reserved.AllocatedBytes);
        Assert.IsTrue(grown.AllocatedBytes > exact, "doubling from 16 leaves spare rows (64 for 37 tokens)");
        Assert.AreEqual(grown.ByteCount, reserved.ByteCount);
        var a = new float[keyDim];
        var b = new float[keyDim];
        for (int h = 0; h < 2; h++)
        {
            CollectionAssert.AreEqual(grown.Head(0, h).Positions.ToArray(), reserved.Head(0, h).Positions.ToArray());
            for (int t = 0; t < tokens; t++)
            {
                grown.Head(0, h).Keys.Read(t, a);
                reserved.Head(0, h).Keys.Read(t, b);
                CollectionAssert.AreEqual(a, b);
            }
        }

        // A used buffer at least doubles, so a long prompt's micro-batches still grow geometrically.
        reserved.Reserve(0, 1);
        Assert.AreEqual(2 * exact, reserved.AllocatedBytes);
        Assert.AreEqual(0, reserved.Head(1, 0).Count, "other layers are untouched");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => reserved.Reserve(0, -1));
    }
}
