namespace ManagedKv.Model.Synthesis;

/// <summary>How a synthetic tensor's values are drawn (golden README §3 recipe), from standard normals z.</summary>
public enum WeightKind
{
    /// <summary>A projection with rows of length n (ggml ne[0]): z / √n, in float arithmetic.</summary>
    Matrix,
    /// <summary>An RMS-norm weight: 1 + 0.05·z.</summary>
    Norm,
    /// <summary>A qwen2 q/k/v bias: 0.5·z.</summary>
    Bias,
}
