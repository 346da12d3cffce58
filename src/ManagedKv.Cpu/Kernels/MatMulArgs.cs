using ManagedKv.Cpu.Activations;

namespace ManagedKv.Cpu.Kernels;

/// <summary>One matrix multiplication y[t, o] = Σ_k W[o, k]·x[t, k], as raw pointers (pinned by the caller).</summary>
internal unsafe struct MatMulArgs
{
    /// <summary>First weight row (memory-mapped tensor data).</summary>
    public byte* Weights;
    /// <summary>Bytes per weight row.</summary>
    public long RowBytes;
    /// <summary>Values per row (input features).</summary>
    public int K;
    /// <summary>Output rows of the weight (output features).</summary>
    public int OutFeatures;
    /// <summary>The converted activation rows.</summary>
    public ActivationBuffer Act;
    /// <summary>Output [tokens, YStride].</summary>
    public float* Y;
    /// <summary>Floats per output row.</summary>
    public int YStride;

    /// <summary>One past the last weight byte (where prefetching stops).</summary>
    public readonly byte* WeightsEnd => Weights + (long)OutFeatures * RowBytes;
}
