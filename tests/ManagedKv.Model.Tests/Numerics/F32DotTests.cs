using ManagedKv.Model.Numerics;

namespace ManagedKv.Model.Tests.Numerics;

/// <summary>
/// <see cref="F32Dot"/> against ggml_vec_dot_f32 of the golden build: lengths that exercise the four
/// 16-lane accumulators (64), the leftover chunks of 16 and 8 with rounded products (108 = 64 + 32 + 8 + 4,
/// 44 = 32 + 8 + 4) and the fused tail (7).
/// </summary>
[TestClass]
public sealed class F32DotTests
{
    [TestMethod]
    [DataRow(108, 5u)]
    [DataRow(44, 6u)]
    [DataRow(7, 7u)]
    [DataRow(64, 8u)]
    public void VecDotMatchesGgml(int n, uint seed)
    {
        var (a, b) = Inputs(n, seed);
        NumericsVectors.AssertBits(Expected(n), [F32Dot.VecDot(a, b)], $"ggml_vec_dot_f32 n={n}");
    }

    [TestMethod]
    public void LaneOrderChangesTheLastBits()
    {
        // Summing the same products in order (f32 or f64) does not give ggml's value for these inputs.
        int naiveF32Misses = 0, naiveF64Misses = 0;
        foreach (var (n, seed) in new[] { (108, 5u), (44, 6u), (7, 7u), (64, 8u) })
        {
            var (a, b) = Inputs(n, seed);
            float f = 0;
            double d = 0;
            for (int i = 0; i < n; i++) { f += a[i] * b[i]; d += a[i] * b[i]; }
            naiveF32Misses += NumericsVectors.CountDifferent(Expected(n), [f]);
            naiveF64Misses += NumericsVectors.CountDifferent(Expected(n), [(float)d]);
        }
        Assert.IsTrue(naiveF32Misses > 0 && naiveF64Misses > 0, $"naive orders missed {naiveF32Misses} (f32) and {naiveF64Misses} (f64) of 4");
    }

    [TestMethod]
    public void TinyBlasUsesOneAccumulator()
    {
        // 32 elements: lane t sums fma(a[t], b[t]) then fma(a[16+t], b[16+t]); vec_dot would take all 32 as
        // rounded leftover products. Constructed so that the two differ: lane 0 holds 2^24 and then 1.
        var a = new float[32];
        var b = new float[32];
        a[0] = 1 << 24; b[0] = 1;
        a[16] = 1; b[16] = 1;
        a[1] = 1; b[1] = 1;
        a[17] = -(1 << 24); b[17] = 1;
        // lane 0: 2^24 + 1 rounds to 2^24; lane 1: 1 − 2^24 is exact; total 2^24 + (1 − 2^24) = 1
        Assert.AreEqual(1f, F32Dot.TinyBlas(a, b));
        // in order: 2^24 + 1 → 2^24, + 1 → 2^24, + 1 (a[16]) → 2^24, − 2^24 → 0
        Assert.AreEqual(0f, F32Dot.VecDot(a, b));
        Assert.ThrowsExactly<ArgumentException>(() => F32Dot.TinyBlas(new float[24], new float[24]));
    }

    private static (float[] A, float[] B) Inputs(int n, uint seed)
    {
        var gen = new NumericsVectors(seed);
        return (gen.Take(n), gen.Take(n));
    }

    private static uint[] Expected(int n) => n switch
    {
        108 => GgmlReference.VecDotF32N108Seed5,
        44 => GgmlReference.VecDotF32N44Seed6,
        7 => GgmlReference.VecDotF32N7Seed7,
        _ => GgmlReference.VecDotF32N64Seed8,
    };
}
