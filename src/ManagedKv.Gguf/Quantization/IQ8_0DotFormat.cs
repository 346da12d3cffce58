namespace ManagedKv.Gguf;

/// <summary>A 32-value weight format whose dot product runs against Q8_0 activations (Q4_0, Q5_0, Q8_0).</summary>
internal interface IQ8_0DotFormat : IBlockFormat
{
    /// <summary>
    /// One block's contribution to the dot product, sumi·dx·dy, in the association the format's generic
    /// <c>ggml_vec_dot_*_q8_0</c> uses (they differ, and f32 products do not associate).
    /// </summary>
    static abstract float DotTerm(int sumi, float dx, float dy);
}
