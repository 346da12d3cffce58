namespace ManagedKv.Gguf.Tests.Quantization;

/// <summary>
/// Every tensor of every quantised tiny-llama file is dequantised and compared with the same tensor of
/// tiny-llama-F32.gguf (llama-quantize's input). The weights are N(0, σ²) draws (README §3), so the error of
/// each format is predictable, and a wrong bit layout (which decorrelates codes from values) shows up as a
/// relative error near √2.
/// </summary>
[TestClass]
public sealed class DequantizeVsF32Tests
{
    /// <summary>
    /// Upper bounds on ‖dequant − x‖ / ‖x‖ per tensor. Theory: uniform rounding noise has RMS Δ/√12 for a step
    /// Δ. For blocks of 32 Gaussian values E[max|x|] ≈ 2.1σ and E[max − min] ≈ 4.1σ; for blocks of 16,
    /// ≈ 1.8σ and ≈ 3.5σ. Predicted (measured on these files) relative RMS:
    ///   Q8_0: Δ = 2.1σ/127          → 0.0048 (0.0054)
    ///   Q5_0: Δ = 2.1σ/16           → 0.038  (0.043; the value opposite the max clamps at +15)
    ///   Q4_0: Δ = 2.1σ/8            → 0.076  (0.086; likewise clamps at +7)
    ///   Q5_1: Δ = 4.1σ/31           → 0.038  (0.038)
    ///   Q4_1: Δ = 4.1σ/15           → 0.079  (0.079)
    ///   Q6_K: Δ ≈ 1.8σ/32 per 16    → 0.016  (0.018)
    ///   Q5_K/Q4_K ≈ Q5_1/Q4_1 less the least-squares fit gain  (0.036 / 0.071)
    ///   Q3_K: Δ ≈ 1.8σ/4 per 16     → 0.13   (0.15, codes clamp at −4..3)
    ///   Q2_K: Δ ≈ 3.5σ/3 per 16     → 0.34   (0.30, thanks to the min/scale fit)
    ///   F16: relative ulp/2 = 2^-11 → ≈ 2^-11/√3·… (0.00021); BF16: 2^-8 (0.0017)
    /// Each threshold is ≈ 1.15–1.2× the measured worst tensor, so a regression that worsens fidelity by a
    /// sixth (e.g. a misread sub-block scale or min) fails, and a layout bug (error ≈ 1.4) fails by far, as
    /// <see cref="MisreadLayoutsFailTheBounds"/> shows.
    /// </summary>
    internal static double RelativeRmsBound(GgmlType type) => type switch
    {
        GgmlType.F16 => 0.00025,
        GgmlType.BF16 => 0.002,
        GgmlType.Q8_0 => 0.0065,
        GgmlType.Q5_0 => 0.05,
        GgmlType.Q4_0 => 0.10,
        GgmlType.Q5_1 => 0.045,
        GgmlType.Q4_1 => 0.092,
        GgmlType.Q6_K => 0.021,
        GgmlType.Q5_K => 0.042,
        GgmlType.Q4_K => 0.083,
        GgmlType.Q3_K => 0.175,
        GgmlType.Q2_K => 0.34,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    [TestMethod]
    [DynamicData(nameof(TinyLlama.VariantRows), typeof(TinyLlama))]
    public void DequantisedTensorsMatchTheF32Source(string variant)
    {
        GgufFile file = TinyLlama.Open(variant);
        var failures = new List<string>();
        foreach (GgufTensorInfo t in file.Tensors)
        {
            ReadOnlySpan<float> x = TinyLlama.F32Values(t.Name);
            var y = new float[x.Length];
            GgmlQuants.DequantizeRow(t.Type, file.GetTensorBytes(t), y);
            if (t.Type == GgmlType.F32)
            {
                // norms stay F32 in every variant: must be copied exactly
                if (!x.SequenceEqual(y)) failures.Add($"{t.Name}: F32 tensor not copied exactly");
                continue;
            }
            double rel = RelativeRms(x, y);
            if (rel > RelativeRmsBound(t.Type))
                failures.Add($"{t.Name} ({t.Type}): relative RMS error {rel:F5} > {RelativeRmsBound(t.Type)}");
            string? element = CheckElementBounds(t.Type, file.GetTensorBytes(t), x, y);
            if (element is not null) failures.Add($"{t.Name} ({t.Type}): {element}");
        }
        Assert.AreEqual(0, failures.Count, string.Join("\n", failures));
    }

    /// <summary>
    /// Swapping the two nibbles of every code byte (for Q8_0: the two halves of each block's codes) models
    /// a misread layout; the error bound must reject it for every quantised type in the goldens.
    /// </summary>
    [TestMethod]
    public void MisreadLayoutsFailTheBounds()
    {
        var seen = new HashSet<GgmlType>();
        foreach (string variant in TinyLlama.Variants)
        {
            GgufFile file = TinyLlama.Open(variant);
            foreach (GgufTensorInfo t in file.Tensors)
            {
                if (!GgmlTypeInfo.Get(t.Type).IsQuantized || !seen.Add(t.Type)) continue;
                byte[] bytes = file.GetTensorBytes(t).ToArray();
                (int offset, int length) = CodeRegion(t.Type);
                int blockBytes = GgmlTypeInfo.Get(t.Type).BlockBytes;
                var tmp = new byte[16];
                for (int b = 0; b < bytes.Length; b += blockBytes)
                {
                    Span<byte> codes = bytes.AsSpan(b + offset, length);
                    if (t.Type == GgmlType.Q8_0)
                    {
                        codes[..16].CopyTo(tmp);
                        codes[16..].CopyTo(codes);
                        tmp.CopyTo(codes[16..]);
                    }
                    else
                    {
                        for (int k = 0; k < codes.Length; k++) codes[k] = (byte)((codes[k] << 4) | (codes[k] >> 4));
                    }
                }
                ReadOnlySpan<float> x = TinyLlama.F32Values(t.Name);
                var y = new float[x.Length];
                GgmlQuants.DequantizeRow(t.Type, bytes, y);
                double rel = RelativeRms(x, y);
                Assert.IsGreaterThan(3 * RelativeRmsBound(t.Type), rel, $"{t.Type}: a misread layout gave only {rel:F4}");
            }
        }
        CollectionAssert.AreEquivalent(
            new[] { GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K },
            seen.ToArray());
    }

    private static (int Offset, int Length) CodeRegion(GgmlType type) => type switch
    {
        GgmlType.Q8_0 => (Q8_0.OffsetQs, 32),
        GgmlType.Q4_0 => (Q4_0.OffsetQs, 16),
        GgmlType.Q4_1 => (Q4_1.OffsetQs, 16),
        GgmlType.Q5_0 => (Q5_0.OffsetQs, 16),
        GgmlType.Q5_1 => (Q5_1.OffsetQs, 16),
        GgmlType.Q2_K => (Q2K.OffsetQs, 64),
        GgmlType.Q3_K => (Q3K.OffsetQs, 64),
        GgmlType.Q4_K => (Q4K.OffsetQs, 128),
        GgmlType.Q5_K => (Q5K.OffsetQs, 128),
        GgmlType.Q6_K => (Q6K.OffsetQl, 128),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    internal static double RelativeRms(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double se = 0, sx = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double e = (double)y[i] - x[i];
            se += e * e;
            sx += (double)x[i] * x[i];
        }
        return Math.Sqrt(se / sx);
    }

    /// <summary>
    /// Per-element bounds where the format's rounding is simple (round-to-nearest against one f16 scale d,
    /// stored with relative error ≤ 2^-11):
    ///   F16: |e| ≤ 2^-11·|x| (or 2^-25 in the subnormal range); BF16: |e| ≤ 2^-8·|x|.
    ///   Q8_0: |e| ≤ |d|/2 + 127·|d|·2^-11 &lt; 0.57|d|.
    ///   Q4_0/Q5_0: |e| ≤ |d| + 16·|d|·2^-11 &lt; 1.01|d| (the value opposite the max maps to +8/+16 and
    ///   clamps to +7/+15, a full step).
    ///   Q4_1/Q5_1: |e| ≤ d/2 + 31·d·2^-11 + |m|·2^-11 &lt; 0.52d + |m|·2^-10.
    /// A wrong nibble or bit plane moves a value by several steps and breaks these.
    /// </summary>
    private static string? CheckElementBounds(GgmlType type, ReadOnlySpan<byte> bytes, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        var info = GgmlTypeInfo.Get(type);
        for (int i = 0; i < x.Length; i++)
        {
            float e = MathF.Abs(y[i] - x[i]);
            ReadOnlySpan<byte> block = bytes.Slice(i / info.BlockSize * info.BlockBytes, info.BlockBytes);
            float bound = type switch
            {
                GgmlType.F16 => MathF.Max(MathF.Abs(x[i]) * MathF.Pow(2, -11), MathF.Pow(2, -25)),
                GgmlType.BF16 => MathF.Abs(x[i]) * MathF.Pow(2, -8),
                GgmlType.Q8_0 => 0.57f * MathF.Abs(Fp16.Read(block, Q8_0.OffsetD)),
                GgmlType.Q4_0 => 1.01f * MathF.Abs(Fp16.Read(block, Q4_0.OffsetD)),
                GgmlType.Q5_0 => 1.01f * MathF.Abs(Fp16.Read(block, Q5_0.OffsetD)),
                GgmlType.Q4_1 => 0.52f * Fp16.Read(block, Q4_1.OffsetD) + MathF.Abs(Fp16.Read(block, Q4_1.OffsetM)) / 1024,
                GgmlType.Q5_1 => 0.52f * Fp16.Read(block, Q5_1.OffsetD) + MathF.Abs(Fp16.Read(block, Q5_1.OffsetM)) / 1024,
                _ => float.PositiveInfinity,
            };
            if (!(e <= bound)) return $"element {i}: |{y[i]} − {x[i]}| = {e} exceeds the block bound {bound}";
        }
        return null;
    }
}
