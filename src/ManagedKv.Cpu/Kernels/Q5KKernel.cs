using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q5_K: as Q4_K with a fifth code bit per value in a 32-byte plane.</summary>
internal sealed class Q5KKernel : MatMulKernel
{
    /// <inheritdoc/>
    public override GgmlType WeightType => GgmlType.Q5_K;

    /// <inheritdoc/>
    public override ActivationKind Activation => ActivationKind.Q8_K;

    /// <inheritdoc/>
    public override int Bias => Q5KBlock.Bias;

    /// <inheritdoc/>
    public override void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1) =>
        KQuantTiles.Compute<Q5KBlock>(args, o0, o1, t0, t1);
}

/// <summary>The Q5_K super-block as <see cref="KQuantTiles"/> reads it.</summary>
internal unsafe struct Q5KBlock : IKBlock
{
    /// <inheritdoc/>
    public static int BlockBytes => Q5K.BlockBytes;

    /// <inheritdoc/>
    public static int Bias => 0;

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
        // get_scale_min_k4 for all eight sub-blocks at once (ggml's utmp shuffle): bytes 0..7 scales, 8..15 mins
        uint* q = (uint*)(block + Q5K.OffsetScales);
        uint u0 = q[0], u1 = q[1], u2 = q[2];
        uint s1 = (u2 & 0x0f0f0f0fu) | (((u0 >> 6) & 0x03030303u) << 4);
        uint m1 = ((u2 >> 4) & 0x0f0f0f0fu) | (((u1 >> 6) & 0x03030303u) << 4);
        Vector256<short> wide = Avx2.ConvertToVector256Int16(Vector128.Create(u0 & 0x3f3f3f3fu, s1, u1 & 0x3f3f3f3fu, m1).AsByte());
        row->Scales = wide;
        row->Mins = Vector256.Create(wide.GetUpper(), wide.GetUpper());
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block, int chunk)
    {
        return Avx2.Or(KQuantTiles.Nibbles(block + Q5K.OffsetQs + 32 * (chunk >> 1), (chunk & 1) != 0), KQuantTiles.Bit(block + Q5K.OffsetQh, chunk, 4));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Codes64(byte* block, int pair)
    {
        Vector512<byte> low = KQuantTiles.Nibbles64(block + Q5K.OffsetQs + 32 * pair);
        Vector512<byte> high = KQuantTiles.Up(KQuantTiles.Fields(KQuantTiles.Twice(block + Q5K.OffsetQh), 2 * pair, 2 * pair + 1, 0x01), 4);
        return Avx512F.Or(low, high);
    }
}
