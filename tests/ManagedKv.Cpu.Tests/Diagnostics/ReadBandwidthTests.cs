using System.Runtime.InteropServices;
using ManagedKv.Cpu.Diagnostics;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Tests.Diagnostics;

/// <summary>
/// The read-bandwidth yardstick that <c>bench</c> divides decoding's bytes per second by must really read every
/// byte (a loop the JIT shortened, or blocks a thread skipped, would report a rate for less data): its checksum
/// must equal a scalar XOR of the same words, for any thread count, across block and tensor tails.
/// </summary>
[TestClass]
public sealed unsafe class ReadBandwidthTests
{
    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    public void ReadsEveryByteOfEveryTensor(int threads)
    {
        int[] sizes = [(3 << 20) + 13, 7, 4096];   // several 1 MiB blocks with a tail, a partial word, a whole page
        var random = new Random(5);
        var arrays = sizes.Select(n => { var a = new byte[n]; random.NextBytes(a); return a; }).ToArray();
        var pins = arrays.Select(a => GCHandle.Alloc(a, GCHandleType.Pinned)).ToArray();
        try
        {
            var tensors = arrays.Select((a, i) => new TensorView($"t{i}", GgmlType.I8, [a.Length], (byte*)pins[i].AddrOfPinnedObject())).ToList();
            var result = ReadBandwidth.Measure(tensors, threads, passes: 2);

            ulong expected = 0;
            foreach (var a in arrays)
                for (int i = 0; i < a.Length; i += 8)
                {
                    ulong word = 0;
                    for (int j = 0; j < 8 && i + j < a.Length; j++) word |= (ulong)a[i + j] << (8 * j);
                    expected ^= word;
                }
            Assert.AreEqual(expected, result.Checksum, $"{threads} threads");
            Assert.AreEqual(sizes.Sum(n => (long)n), result.Bytes);
            Assert.IsTrue(result.BytesPerSecond > 0 && double.IsFinite(result.BytesPerSecond), $"rate {result.BytesPerSecond}");
        }
        finally
        {
            foreach (var pin in pins) pin.Free();
        }
    }
}
