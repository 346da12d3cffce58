using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q3_K: 256-value super-blocks of sixteen 16-value sub-blocks, 2 low code bits plus a high-bit mask (x = d·(sc − 32)·q, q in −4..3), 6-bit scales.</summary>
internal sealed class Q3KKernel : MatMulKernel
{
    /// <inheritdoc/>
    public override GgmlType WeightType => GgmlType.Q3_K;

    /// <inheritdoc/>
    public override ActivationKind Activation => ActivationKind.Q8_K;

    /// <inheritdoc/>
    public override int Bias => Q3KBlock.Bias;

    /// <inheritdoc/>
    public override void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1) =>
        KQuantTiles.Compute<Q3KBlock>(args, o0, o1, t0, t1);
}

/// <summary>The Q3_K super-block as <see cref="KQuantTiles"/> reads it.</summary>
internal unsafe struct Q3KBlock : IKBlock
{
    /// <inheritdoc/>
    public static int BlockBytes => Q3K.BlockBytes;

    /// <inheritdoc/>
    public static int Bias => 4;

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
        byte* sc = block + Q3K.OffsetScales;
        for (int j = 0; j < 16; j++)
        {
            int low = j < 8 ? sc[j] & 0xF : sc[j - 8] >> 4;
            row->Scales[j] = (low | (((sc[8 + (j & 3)] >> (2 * (j >> 2))) & 3) << 4)) - 32;
        }
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block, int chunk)
    {
        // value = low2 − 4 + 4·hbit, so code + 4 = low2 | hbit << 2
        Vector256<byte> low = KQuantTiles.TwoBits(block + Q3K.OffsetQs + 32 * (chunk >> 2), chunk & 3);
        return Avx2.Or(low, KQuantTiles.Bit(block + Q3K.OffsetHmask, chunk, 2));
    }
}
