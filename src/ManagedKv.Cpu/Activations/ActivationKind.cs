namespace ManagedKv.Cpu.Activations;

/// <summary>The form an activation row takes before a dot product with a weight type (ggml's vec_dot_type).</summary>
internal enum ActivationKind
{
    /// <summary>f32 values as they are (F32 weights).</summary>
    F32,
    /// <summary>f32 values rounded to f16 (F16 weights).</summary>
    F16,
    /// <summary>f32 values rounded to bf16 (BF16 weights).</summary>
    BF16,
    /// <summary>Q8_0 blocks of 32 (Q4_0, Q5_0, Q8_0 weights).</summary>
    Q8_0,
    /// <summary>Q8_1 blocks of 32 with the scaled code sum (Q4_1, Q5_1 weights).</summary>
    Q8_1,
    /// <summary>Q8_K blocks of 256 with 16-value sums (K-quant weights).</summary>
    Q8_K,
}
