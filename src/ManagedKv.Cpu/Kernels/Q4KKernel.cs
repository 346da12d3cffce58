using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q4_K: 256-value super-blocks of eight 32-value sub-blocks, 4-bit codes, 6-bit scales and mins (x = d·sc·q − dmin·m).</summary>
internal sealed class Q4KKernel : MatMulKernel
{
    /// <inheritdoc/>
    public override GgmlType WeightType => GgmlType.Q4_K;

    /// <inheritdoc/>
    public override ActivationKind Activation => ActivationKind.Q8_K;

    /// <inheritdoc/>
    public override int Bias => Q4KBlock.Bias;

    /// <inheritdoc/>
    public override void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1) =>
        KQuantTiles.Compute<Q4KBlock>(args, o0, o1, t0, t1);
}

/// <summary>The Q4_K super-block as <see cref="KQuantTiles"/> reads it.</summary>
internal unsafe struct Q4KBlock : IKBlock
{
    /// <inheritdoc/>
    public static int BlockBytes => Q4K.BlockBytes;

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
        row->D = Simd.Half(block + Q4K.OffsetD);
        row->DMin = Simd.Half(block + Q4K.OffsetDmin);
        // get_scale_min_k4 for all eight sub-blocks at once (ggml's utmp shuffle): bytes 0..7 scales, 8..15 mins
        uint* q = (uint*)(block + Q4K.OffsetScales);
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
        return KQuantTiles.Nibbles(block + Q4K.OffsetQs + 32 * (chunk >> 1), (chunk & 1) != 0);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Codes64(byte* block, int pair)
    {
        return KQuantTiles.Nibbles64(block + Q4K.OffsetQs + 32 * pair);
    }
}
