using ManagedKv.Cpu.Activations;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// A weight type's matrix-multiplication kernel. <see cref="Compute"/> fills the output block
/// [t0, t1) × [o0, o1) from weight rows read in place (no dequantised copy). Every output element is produced
/// by the same sequence of operations whatever block or thread computes it, so results do not depend on the
/// partition or the thread count, nor (except for Q4_K, whose batched tokens take llama.cpp's GEMM float steps,
/// see <see cref="KFloat.Spans64"/>) on whether tokens are processed one at a time or in a batch.
/// </summary>
internal abstract unsafe class MatMulKernel
{
    /// <summary>The stored weight type.</summary>
    public abstract GgmlType WeightType { get; }

    /// <summary>The form activations are converted to (ggml's vec_dot_type).</summary>
    public abstract ActivationKind Activation { get; }

    /// <summary>
    /// Offset added to the weight codes so they are unsigned (Q8_0: 128, Q4_0: 8, Q5_0: 16, Q3_K: 4, Q6_K: 32,
    /// else 0); the activation side carries −Bias·(sum of each 4 codes) to cancel it exactly.
    /// </summary>
    public virtual int Bias => 0;

    /// <summary>Computes y[t, o] for o in [o0, o1) and t in [t0, t1).</summary>
    public abstract void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1);

    /// <summary>Pointers to four weight rows starting at <paramref name="o"/>, repeating the last real row past the end.</summary>
    internal static void Rows4(in MatMulArgs args, int o, int o1, out byte* w0, out byte* w1, out byte* w2, out byte* w3)
    {
        w0 = args.Weights + o * args.RowBytes;
        w1 = o + 1 < o1 ? w0 + args.RowBytes : w0;
        w2 = o + 2 < o1 ? w1 + args.RowBytes : w1;
        w3 = o + 3 < o1 ? w2 + args.RowBytes : w2;
    }

    /// <summary>
    /// Prefetches the 4-row tile that follows <paramref name="o"/> by at least 4 KB (prefill, which reuses each
    /// tile for many tokens; decoding spreads its prefetches over its steps, see <see cref="StepPrefetch"/>). The
    /// four interleaved row streams of a tile (a few hundred bytes to a few kilobytes each) end before the
    /// hardware prefetcher has learnt them, while the tiles themselves are contiguous, so fetching whole tiles
    /// ahead keeps DRAM busy. The non-temporal hint keeps the streamed weights from evicting the activations.
    /// </summary>
    /// <param name="args">The multiplication.</param>
    /// <param name="o">The first row of the current tile.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchAhead(in MatMulArgs args, int o)
    {
        long tile = 4 * args.RowBytes;
        long ahead = tile >= 4096 ? tile : (4096 / tile + 1) * tile;
        byte* p = args.Weights + o * args.RowBytes + ahead;
        StepPrefetch.Linear(p, tile, args.WeightsEnd);
    }

    /// <summary>Stores the first min(4, o1 − o) results of one token.</summary>
    internal static void Store(in MatMulArgs args, int t, int o, int o1, float r0, float r1, float r2, float r3)
    {
        float* y = args.Y + (long)t * args.YStride + o;
        y[0] = r0;
        if (o + 1 < o1) y[1] = r1;
        if (o + 2 < o1) y[2] = r2;
        if (o + 3 < o1) y[3] = r3;
    }
}
