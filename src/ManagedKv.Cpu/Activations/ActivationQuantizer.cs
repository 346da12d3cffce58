using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Kernels;
using ManagedKv.Gguf;
using ManagedKv.Model.Reference;

namespace ManagedKv.Cpu.Activations;

/// <summary>
/// Converts f32 activation rows into an <see cref="ActivationBuffer"/>. The Q8 paths are SIMD re-implementations
/// of llama.cpp's x86 activation quantisers (<see cref="ActivationQuants"/>): same max-abs reduction order, same
/// multiplier, round-to-nearest-even conversion and saturating packs, so the codes and scales are identical
/// (the tests compare them byte for byte). Blocks holding NaN or ±∞ are handed to <see cref="ActivationQuants"/>
/// itself so that even those agree.
/// </summary>
internal static unsafe class ActivationQuantizer
{
    /// <summary>Converts row <paramref name="row"/> of the buffer from <paramref name="x"/> (K values).</summary>
    public static void QuantizeRow(ActivationBuffer buf, int row, float* x)
    {
        int k = buf.K;
        if (buf.Portable)
        {
            ActivationEncoder.Encode(ActivationBuffer.VecDotType(buf.Kind), new ReadOnlySpan<float>(x, k),
                new Span<byte>(buf.Raw + (long)row * buf.RawStride, buf.RawStride));
            return;
        }
        switch (buf.Kind)
        {
            case ActivationKind.F32:
                new ReadOnlySpan<float>(x, k).CopyTo(new Span<float>(buf.Floats + (long)row * k, k));
                break;
            case ActivationKind.F16:
                RoundToHalf(x, buf.Floats + (long)row * k, k);
                break;
            case ActivationKind.BF16:
                RoundToBf16(x, buf.Floats + (long)row * k, k);
                break;
            case ActivationKind.Q8_0 or ActivationKind.Q8_1:
                QuantizeQ8(buf, row, x);
                break;
            default:
                QuantizeQ8K(buf, row, x);
                break;
        }
    }

    private static void RoundToHalf(float* x, float* y, int k)
    {
        Span<Half> tmp = stackalloc Half[256];
        for (int i = 0; i < k; i += 256)
        {
            int n = Math.Min(256, k - i);
            TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>(x + i, n), tmp[..n]);
            TensorPrimitives.ConvertToSingle(tmp[..n], new Span<float>(y + i, n));
        }
    }

    /// <summary>
    /// Rounds to bf16 (ggml_compute_fp32_to_bf16) and lays each whole 32-value step out split, the 16 even
    /// values then the 16 odd ones, as the paired BF16 kernel reads them; a remainder stays in order.
    /// </summary>
    private static void RoundToBf16(float* x, float* y, int k)
    {
        int steps = k & ~31;
        float* r = stackalloc float[32];
        for (int s = 0; s < steps; s += 32)
        {
            for (int j = 0; j < 32; j++) r[j] = RoundBf16(x[s + j]);
            for (int l = 0; l < 16; l++)
            {
                y[s + l] = r[2 * l];
                y[s + 16 + l] = r[2 * l + 1];
            }
        }
        for (int i = steps; i < k; i++) y[i] = RoundBf16(x[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float RoundBf16(float v) => Bf16.ToSingle(Bf16.FromSingle(v));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void QuantizeQ8(ActivationBuffer buf, int row, float* x)
    {
        int k = buf.K, groups = k / 32;
        bool withSum = buf.Kind == ActivationKind.Q8_1;
        sbyte* codes = buf.Codes + (long)row * k;
        float* scales = buf.Scales + (long)row * groups;
        float* sums = withSum ? buf.Sums + (long)row * groups : null;
        int* corr = buf.Bias != 0 ? buf.Corr + (long)row * (k / 4) : null;
        var signBit = Vector256.Create(-0.0f);
        var exponent = Vector256.Create(0x7F800000);
        for (int g = 0; g < groups; g++)
        {
            float* p = x + 32 * g;
            Vector256<float> v0 = Avx.LoadVector256(p), v1 = Avx.LoadVector256(p + 8), v2 = Avx.LoadVector256(p + 16), v3 = Avx.LoadVector256(p + 24);
            if (!AllFinite(v0, v1, v2, v3, exponent))
            {
                ScalarQ8Block(withSum, p, codes + 32 * g, scales + g, sums is null ? null : sums + g);
            }
            else
            {
                // quantize_row_q8_0/q8_1 (ggml-cpu/arch/x86/quants.c), operation for operation
                Vector256<float> maxAbs = Avx.AndNot(signBit, v0);
                maxAbs = Avx.Max(maxAbs, Avx.AndNot(signBit, v1));
                maxAbs = Avx.Max(maxAbs, Avx.AndNot(signBit, v2));
                maxAbs = Avx.Max(maxAbs, Avx.AndNot(signBit, v3));
                Vector128<float> max4 = Sse.Max(maxAbs.GetUpper(), maxAbs.GetLower());
                max4 = Sse.Max(max4, Sse.MoveHighToLow(max4, max4));
                max4 = Sse.MaxScalar(max4, Sse3.MoveHighAndDuplicate(max4));
                float maxScalar = max4.ToScalar();
                float d = maxScalar / 127f;
                float id = maxScalar != 0.0f ? 127f / maxScalar : 0.0f;
                var mul = Vector256.Create(id);
                Vector256<int> i0 = Avx.ConvertToVector256Int32(Avx.Multiply(v0, mul));
                Vector256<int> i1 = Avx.ConvertToVector256Int32(Avx.Multiply(v1, mul));
                Vector256<int> i2 = Avx.ConvertToVector256Int32(Avx.Multiply(v2, mul));
                Vector256<int> i3 = Avx.ConvertToVector256Int32(Avx.Multiply(v3, mul));
                scales[g] = d;
                if (withSum) sums[g] = d * Vector256.Sum(Avx2.Add(Avx2.Add(i0, i1), Avx2.Add(i2, i3)));
                Avx.Store(codes + 32 * g, Pack(i0, i1, i2, i3));
            }
            if (corr is not null) StoreCorr(codes + 32 * g, corr + 8 * g, buf.Bias);
        }
        RoundScalesToHalf(scales, groups);
        if (withSum) RoundScalesToHalf(sums, groups);
    }

    private static void ScalarQ8Block(bool withSum, float* p, sbyte* codes, float* scale, float* sum)
    {
        var src = new ReadOnlySpan<float>(p, 32);
        if (withSum)
        {
            Span<byte> block = stackalloc byte[Q8_1.BlockBytes];
            ActivationQuants.QuantizeQ8_1(src, block);
            block.Slice(Q8_1.OffsetQs, 32).CopyTo(new Span<byte>(codes, 32));
            *scale = Fp16.Read(block, Q8_1.OffsetD);
            *sum = Fp16.Read(block, Q8_1.OffsetS);
        }
        else
        {
            Span<byte> block = stackalloc byte[Q8_0.BlockBytes];
            ActivationQuants.QuantizeQ8_0(src, block);
            block.Slice(Q8_0.OffsetQs, 32).CopyTo(new Span<byte>(codes, 32));
            *scale = Fp16.Read(block, Q8_0.OffsetD);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void QuantizeQ8K(ActivationBuffer buf, int row, float* x)
    {
        int k = buf.K, blocks = k / 256;
        sbyte* codes = buf.Codes + (long)row * k;
        float* scales = buf.Scales + (long)row * blocks;
        short* bsums = buf.BlockSums + (long)row * (k / 16);
        short* pairs = buf.PairSums + (long)row * (k / 32);
        short* biasPairs = buf.Bias != 0 ? buf.BiasPairs + (long)row * (k / 2) : null;
        var signBit = Vector256.Create(-0.0f);
        var exponent = Vector256.Create(0x7F800000);
        Span<byte> block = stackalloc byte[Q8K.BlockBytes];
        for (int b = 0; b < blocks; b++)
        {
            float* p = x + 256 * b;
            sbyte* q = codes + 256 * b;
            bool finite = true;
            Vector256<float> amax = Vector256<float>.Zero;
            for (int i = 0; i < 256; i += 8)
            {
                Vector256<float> v = Avx.LoadVector256(p + i);
                finite &= Avx2.MoveMask(Avx2.CompareEqual(Avx2.And(v.AsInt32(), exponent), exponent).AsByte()) == 0;
                amax = Avx.Max(Avx.AndNot(signBit, v), amax);
            }
            if (!finite)
            {
                ActivationQuants.QuantizeQ8_K(new ReadOnlySpan<float>(p, 256), block);
                block.Slice(Q8K.OffsetQs, 256).CopyTo(new Span<byte>(q, 256));
                scales[b] = Q8K.ReadD(block);
            }
            else
            {
                float m = MaxLanes(amax);
                if (m == 0)
                {
                    new Span<byte>(q, 256).Clear();
                    scales[b] = 0;
                }
                else
                {
                    // quantize_row_q8_K_ref: the first value of largest magnitude sets the sign of the scale
                    var target = Vector256.Create(m);
                    float max = 0;
                    for (int i = 0; i < 256; i += 8)
                    {
                        int mask = Avx.MoveMask(Avx.CompareEqual(Avx.AndNot(signBit, Avx.LoadVector256(p + i)), target));
                        if (mask != 0) { max = p[i + System.Numerics.BitOperations.TrailingZeroCount(mask)]; break; }
                    }
                    float iscale = -127f / max;
                    var mul = Vector256.Create(iscale);
                    var cap = Vector256.Create(127);
                    for (int i = 0; i < 256; i += 32)
                    {
                        Vector256<int> i0 = Avx2.Min(Avx.ConvertToVector256Int32(Avx.Multiply(Avx.LoadVector256(p + i), mul)), cap);
                        Vector256<int> i1 = Avx2.Min(Avx.ConvertToVector256Int32(Avx.Multiply(Avx.LoadVector256(p + i + 8), mul)), cap);
                        Vector256<int> i2 = Avx2.Min(Avx.ConvertToVector256Int32(Avx.Multiply(Avx.LoadVector256(p + i + 16), mul)), cap);
                        Vector256<int> i3 = Avx2.Min(Avx.ConvertToVector256Int32(Avx.Multiply(Avx.LoadVector256(p + i + 24), mul)), cap);
                        Avx.Store(q + i, Pack(i0, i1, i2, i3));
                    }
                    scales[b] = 1 / iscale;
                }
            }
            // block sums of 16 codes and their pairs from the lane sums of 4 codes; bias times sums of 2 codes
            for (int c = 0; c < 8; c++)
            {
                Vector256<int> lanes = LaneSums(q + 32 * c);
                short s0 = (short)(lanes.GetElement(0) + lanes.GetElement(1) + lanes.GetElement(2) + lanes.GetElement(3));
                short s1 = (short)(lanes.GetElement(4) + lanes.GetElement(5) + lanes.GetElement(6) + lanes.GetElement(7));
                bsums[16 * b + 2 * c] = s0;
                bsums[16 * b + 2 * c + 1] = s1;
                pairs[8 * b + c] = (short)(s0 + s1);
                if (biasPairs is not null)
                {
                    Vector256<short> two = Avx2.MultiplyAddAdjacent(Vector256.Create((byte)1), Avx.LoadVector256(q + 32 * c));
                    Avx.Store(biasPairs + 128 * b + 16 * c, Avx2.MultiplyLow(two, Vector256.Create((short)buf.Bias)));
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxLanes(Vector256<float> v)
    {
        Vector128<float> m = Sse.Max(v.GetUpper(), v.GetLower());
        m = Sse.Max(m, Sse.MoveHighToLow(m, m));
        m = Sse.MaxScalar(m, Sse3.MoveHighAndDuplicate(m));
        return m.ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool AllFinite(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3, Vector256<int> exponent)
    {
        Vector256<int> e0 = Avx2.CompareEqual(Avx2.And(v0.AsInt32(), exponent), exponent);
        Vector256<int> e1 = Avx2.CompareEqual(Avx2.And(v1.AsInt32(), exponent), exponent);
        Vector256<int> e2 = Avx2.CompareEqual(Avx2.And(v2.AsInt32(), exponent), exponent);
        Vector256<int> e3 = Avx2.CompareEqual(Avx2.And(v3.AsInt32(), exponent), exponent);
        return Avx2.MoveMask(Avx2.Or(Avx2.Or(e0, e1), Avx2.Or(e2, e3)).AsByte()) == 0;
    }

    /// <summary>int32 → int8 with the saturating AVX2 packs, restoring value order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Pack(Vector256<int> i0, Vector256<int> i1, Vector256<int> i2, Vector256<int> i3)
    {
        Vector256<short> a = Avx2.PackSignedSaturate(i0, i1);
        Vector256<short> b = Avx2.PackSignedSaturate(i2, i3);
        Vector256<sbyte> bytes = Avx2.PackSignedSaturate(a, b);
        return Avx2.PermuteVar8x32(bytes.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsSByte();
    }

    /// <summary>Lane i = sum of codes 4i..4i+3 of a 32-code group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> LaneSums(sbyte* q) =>
        Simd.Dot(Vector256<int>.Zero, Vector256.Create((byte)1), Avx.LoadVector256(q));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreCorr(sbyte* q, int* corr, int bias) =>
        Avx.Store(corr, Avx2.MultiplyLow(LaneSums(q), Vector256.Create(-bias)));

    /// <summary>Rounds f32 scales to the f16 values ggml stores (round to nearest even).</summary>
    private static void RoundScalesToHalf(float* values, int count)
    {
        Span<Half> tmp = stackalloc Half[256];
        for (int i = 0; i < count; i += 256)
        {
            int n = Math.Min(256, count - i);
            var span = new Span<float>(values + i, n);
            TensorPrimitives.ConvertToHalf(span, tmp[..n]);
            TensorPrimitives.ConvertToSingle(tmp[..n], span);
        }
    }
}
