using ManagedKv.Gguf;
using ManagedKv.Model.Inference;

namespace ManagedKv.Cpu.Tests.Kernels;

/// <summary>
/// Every weight-type kernel against the scalar oracle <see cref="QuantDot.Dot"/> (llama.cpp's generic vec_dot,
/// fed the same llama.cpp x86 activation codes): the integer block sums are exact in both, so the only
/// difference is f32 summation order (ggml's AVX2 lanes + FMA versus sequential). The stated tolerance is
/// 1e-6 · Σ|w_k·a_k| (dequantised weight times dequantised activation), about ten times the worst difference measured (1.0e-7, Q5_1)
/// for these row lengths.
/// </summary>
[TestClass]
public sealed class MatMulKernelTests
{
    private const double RelativeTolerance = 1e-6;

    private static readonly GgmlType[] Types =
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
        GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
    ];

    public static IEnumerable<object[]> TypesAndTokens =>
        Types.SelectMany(t => new[] { 1, 3, 17, 64 }.Select(n => new object[] { t, n }));

    public static IEnumerable<object[]> AllTypes => Types.Select(t => new object[] { t });

    [TestMethod]
    [DynamicData(nameof(TypesAndTokens))]
    public void MatchesScalarOracle(GgmlType type, int tokens)
    {
        const int rows = 37; // odd: exercises the 4-row tail
        int k = type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 ? 77 * 8 + 5 : 512; // float types: a k % 8 tail too
        var w = TestMatrix.Random(type, rows, k, seed: 11 + (int)type);
        float[] x = TestMatrix.Activations(tokens, k, seed: 7 * tokens);
        float[] y = Run(new CpuBackend(2), w, x, tokens, k, rows);

        var dotType = QuantDot.VecDotType(type);
        var encoded = new byte[GgmlTypeInfo.Get(dotType).RowBytes(k)];
        var wf = new float[k];
        var af = new float[k];
        double worst = 0;
        for (int t = 0; t < tokens; t++)
        {
            ActivationQuants.Quantize(type, x.AsSpan(t * k, k), encoded);
            GgmlQuants.DequantizeRow(dotType, encoded, af);
            for (int o = 0; o < rows; o++)
            {
                float expected = QuantDot.Dot(type, w.Row(o), encoded);
                GgmlQuants.DequantizeRow(type, w.Row(o), wf);
                double bound = 0;
                for (int i = 0; i < k; i++) bound += Math.Abs((double)wf[i] * af[i]);
                double error = Math.Abs(y[t * rows + o] - expected);
                worst = Math.Max(worst, error / bound);
                Assert.IsTrue(error <= RelativeTolerance * bound,
                    $"{type} token {t} row {o}: cpu {y[t * rows + o]}, oracle {expected}, |Δ| {error:G3} > {RelativeTolerance}·{bound:G4}");
            }
        }
        Console.WriteLine($"{type} × {tokens} tokens: worst |Δ|/Σ|w·a| = {worst:G3}");
    }

    [TestMethod]
    [DynamicData(nameof(AllTypes))]
    public void BatchEqualsOneTokenAtATime(GgmlType type)
    {
        const int rows = 43, tokens = 21;
        int k = type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 ? 259 : 768;
        var w = TestMatrix.Random(type, rows, k, seed: 3);
        float[] x = TestMatrix.Activations(tokens, k, seed: 5);
        using var backend = new CpuBackend(3);
        float[] batch = Run(backend, w, x, tokens, k, rows);
        // Q4_K follows llama.cpp's repacked kernels: GEMM (the batch's whole groups of 4 tokens) takes a float
        // step every 64 values, GEMV (single tokens and the batch's last tokens % 4) one per super-block, so the
        // grouped tokens agree with a lone token only to rounding.
        int gemmTokens = type == GgmlType.Q4_K ? tokens - tokens % 4 : 0;
        for (int t = 0; t < tokens; t++)
        {
            float[] one = Run(backend, w, x.AsSpan(t * k, k).ToArray(), 1, k, rows);
            for (int o = 0; o < rows; o++)
            {
                float b = batch[t * rows + o];
                if (t < gemmTokens)
                    Assert.AreEqual(one[o], b, 1e-5f * Math.Max(1, Math.Abs(one[o])), $"{type} token {t} row {o}: batch {b} vs alone {one[o]}");
                else
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(one[o]), BitConverter.SingleToInt32Bits(b), $"{type} token {t} row {o}: batch {b} vs alone {one[o]}");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(AllTypes))]
    public void PortableFallbackMatchesOracleExactly(GgmlType type)
    {
        const int rows = 9, tokens = 2, k = 256;
        var w = TestMatrix.Random(type, rows, k, seed: 8);
        float[] x = TestMatrix.Activations(tokens, k, seed: 9);
        float[] y = Run(new CpuBackend(2, portable: true), w, x, tokens, k, rows);
        var encoded = new byte[GgmlTypeInfo.Get(QuantDot.VecDotType(type)).RowBytes(k)];
        for (int t = 0; t < tokens; t++)
        {
            ActivationQuants.Quantize(type, x.AsSpan(t * k, k), encoded);
            for (int o = 0; o < rows; o++) Assert.AreEqual(QuantDot.Dot(type, w.Row(o), encoded), y[t * rows + o]);
        }
    }

    private static float[] Run(CpuBackend backend, TestMatrix w, float[] x, int tokens, int k, int rows)
    {
        var weight = backend.PrepareWeight(w.View);
        var input = (HostTensor)backend.Allocate(tokens, k);
        x.AsSpan(0, tokens * k).CopyTo(input.Data);
        var output = (HostTensor)backend.Allocate(tokens, rows);
        backend.MatMul(weight, input, tokens, output);
        return output.Data.ToArray();
    }
}
