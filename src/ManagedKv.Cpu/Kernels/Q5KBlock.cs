using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q5_K: as Q4_K with a fifth code bit per value in a 32-byte plane. The super-block as <see cref="KQuantTiles"/> reads it.</summary>
internal unsafe struct Q5KBlock : IKBlock
{
    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.Q5_K;

    /// <inheritdoc/>
    public static int BlockBytes => Q5K.BlockBytes;

    /// <inheritdoc/>
    public static int Bias => 0;

    /// <inheritdoc/>
    public static KFloat Float => KFloat.Lanes;

    /// <inheritdoc/>
    public static bool SubBlockBias => false;

    /// <inheritdoc/>
    public static KMins Mins => KMins.Eight;

    /// <inheritdoc/>
    public static bool SixteenScales => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(byte* block, KRow* row)
    {
        row->D = Simd.Half(block + Q5K.OffsetD);
        row->DMin = Simd.Half(block + Q5K.OffsetDmin);
        row->Scales = KQuantTiles.ScalesAndMins(block);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block, int chunk)
    {
        return Avx2.Or(KQuantTiles.Nibbles(block + Q5K.OffsetQs + 32 * (chunk >> 1), (chunk & 1) != 0), KQuantTiles.Bit(block + Q5K.OffsetQh, chunk, 4));
    }

    /// <inheritdoc/>
    public static bool Interleaved => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Codes128(byte* block, int half, out Vector512<byte> a, out Vector512<byte> b)
    {
        Vector512<byte> w = Avx512BW.LoadVector512(block + Q5K.OffsetQs + 64 * half);
        Vector512<ushort> qh = KQuantTiles.Twice(block + Q5K.OffsetQh);
        a = Avx512F.Or(Avx512F.And(w, Vector512.Create((byte)0x0F)), KQuantTiles.Up(KQuantTiles.Fields(qh, 4 * half, 4 * half + 2, 0x01), 4));
        b = Avx512F.Or(Avx512F.And(Avx512BW.ShiftRightLogical(w.AsUInt16(), 4).AsByte(), Vector512.Create((byte)0x0F)),
            KQuantTiles.Up(KQuantTiles.Fields(qh, 4 * half + 1, 4 * half + 3, 0x01), 4));
    }
}
