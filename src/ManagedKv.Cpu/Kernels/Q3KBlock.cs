using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q3_K: 256-value super-blocks of sixteen 16-value sub-blocks, 2 low code bits plus a high-bit mask (x = d·(sc − 32)·q, q in −4..3), 6-bit scales. The super-block as <see cref="KQuantTiles"/> reads it.</summary>
internal unsafe struct Q3KBlock : IKBlock
{
    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.Q3_K;

    /// <inheritdoc/>
    public static int BlockBytes => Q3K.BlockBytes;

    /// <inheritdoc/>
    public static int Bias => 4;

    /// <inheritdoc/>
    public static KFloat Float => KFloat.Lanes;

    /// <inheritdoc/>
    public static bool SubBlockBias => false;

    /// <inheritdoc/>
    public static KMins Mins => KMins.None;

    /// <inheritdoc/>
    public static bool SixteenScales => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(byte* block, KRow* row)
    {
        row->D = Simd.Half(block + Q3K.OffsetD);
        row->DMin = 0;
        // ggml's aux shuffle: the 6-bit scales of sub-blocks 0..15, then minus 32
        uint* aux = (uint*)(block + Q3K.OffsetScales);
        uint a0 = aux[0], a1 = aux[1], a2 = aux[2];
        const uint k1 = 0x03030303u, k2 = 0x0f0f0f0fu;
        var bytes = Vector128.Create(
            (a0 & k2) | ((a2 & k1) << 4),
            (a1 & k2) | (((a2 >> 2) & k1) << 4),
            ((a0 >> 4) & k2) | (((a2 >> 4) & k1) << 4),
            ((a1 >> 4) & k2) | (((a2 >> 6) & k1) << 4)).AsByte();
        row->Scales = Avx2.ConvertToVector256Int16(Sse2.Subtract(bytes, Vector128.Create((byte)32)).AsSByte());
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block, int chunk)
    {
        // value = low2 − 4 + 4·hbit, so code + 4 = low2 | hbit << 2
        Vector256<byte> low = KQuantTiles.TwoBits(block + Q3K.OffsetQs + 32 * (chunk >> 2), chunk & 3);
        return Avx2.Or(low, KQuantTiles.Bit(block + Q3K.OffsetHmask, chunk, 2));
    }

    /// <inheritdoc/>
    public static bool Interleaved => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Codes128(byte* block, int half, out Vector512<byte> a, out Vector512<byte> b)
    {
        // qs[32h .. 32h+31]: 2-bit fields k = chunks 4h+k; high-mask bit 4h+k
        Vector512<ushort> qs = KQuantTiles.Twice(block + Q3K.OffsetQs + 32 * half);
        Vector512<ushort> hm = KQuantTiles.Twice(block + Q3K.OffsetHmask);
        a = Avx512F.Or(KQuantTiles.Fields(qs, 0, 2, 0x03), KQuantTiles.Up(KQuantTiles.Fields(hm, 4 * half, 4 * half + 1, 0x01), 2));
        b = Avx512F.Or(KQuantTiles.Fields(qs, 4, 6, 0x03), KQuantTiles.Up(KQuantTiles.Fields(hm, 4 * half + 2, 4 * half + 3, 0x01), 2));
    }
}
