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
    public static KMins Mins => KMins.Scalar;

    /// <inheritdoc/>
    public static bool SixteenScales => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(byte* block, KRow* row)
    {
        row->D = Simd.Half(block + Q5K.OffsetD);
        row->DMin = Simd.Half(block + Q5K.OffsetDmin);
        // get_scale_min_k4: 6-bit scales and mins packed in 12 bytes
        byte* q = block + Q5K.OffsetScales;
        for (int j = 0; j < 4; j++)
        {
            row->Scales[j] = q[j] & 63;
            row->Mins[j] = (short)(q[j + 4] & 63);
            row->Scales[j + 4] = (q[j + 8] & 0xF) | ((q[j] >> 6) << 4);
            row->Mins[j + 4] = (short)((q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4));
        }
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block, int chunk)
    {
        return Avx2.Or(KQuantTiles.Nibbles(block + Q5K.OffsetQs + 32 * (chunk >> 1), (chunk & 1) != 0), KQuantTiles.Bit(block + Q5K.OffsetQh, chunk, 4));
    }
}
