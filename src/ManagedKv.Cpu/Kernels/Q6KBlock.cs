using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q6_K: 256-value super-blocks of sixteen 16-value sub-blocks, 6-bit codes (x = d·sc·(q − 32)), int8 scales. The super-block as <see cref="KQuantTiles"/> reads it.</summary>
internal unsafe struct Q6KBlock : IKBlock
{
    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.Q6_K;

    /// <inheritdoc/>
    public static int BlockBytes => Q6K.BlockBytes;

    /// <inheritdoc/>
    public static int Bias => 32;

    /// <inheritdoc/>
    public static KFloat Float => KFloat.Lanes;

    /// <inheritdoc/>
    public static bool SubBlockBias => true;

    /// <inheritdoc/>
    public static KMins Mins => KMins.None;

    /// <inheritdoc/>
    public static bool SixteenScales => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(byte* block, KRow* row)
    {
        row->D = Simd.Half(block + Q6K.OffsetD);
        row->DMin = 0;
        row->Scales = Avx2.ConvertToVector256Int16((sbyte*)(block + Q6K.OffsetScales));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block, int chunk)
    {
        int h = chunk >> 2, k = chunk & 3;
        Vector256<byte> low = KQuantTiles.Nibbles(block + Q6K.OffsetQl + 64 * h + 32 * (k & 1), k >= 2);
        Vector256<byte> high = Avx2.ShiftLeftLogical(KQuantTiles.TwoBits(block + Q6K.OffsetQh + 32 * h, k).AsUInt16(), 4).AsByte();
        return Avx2.Or(low, high);
    }

    /// <inheritdoc/>
    public static bool Interleaved => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Codes128(byte* block, int half, out Vector512<byte> a, out Vector512<byte> b)
    {
        // ql[64h .. 64h+63]: low nibbles = chunks 4h, 4h+1 (values 128h .. +63), high nibbles = chunks 4h+2, 4h+3;
        // qh[32h .. 32h+31]: 2-bit fields 0, 1 for the first pair, 2, 3 for the second
        Vector512<byte> ql = Avx512BW.LoadVector512(block + Q6K.OffsetQl + 64 * half);
        Vector512<ushort> qh = KQuantTiles.Twice(block + Q6K.OffsetQh + 32 * half);
        a = Avx512F.Or(Avx512F.And(ql, Vector512.Create((byte)0x0F)), KQuantTiles.Up(KQuantTiles.Fields(qh, 0, 2, 0x03), 4));
        b = Avx512F.Or(Avx512F.And(Avx512BW.ShiftRightLogical(ql.AsUInt16(), 4).AsByte(), Vector512.Create((byte)0x0F)),
            KQuantTiles.Up(KQuantTiles.Fields(qh, 4, 6, 0x03), 4));
    }
}
