using System.Runtime.InteropServices;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Activations;

/// <summary>
/// Activation rows converted once per matrix multiplication into the weight type's dot-product form, laid out
/// planar for SIMD: codes, per-block scales, per-lane offset corrections and block sums each in their own array
/// (the portable path keeps ggml's block bytes instead). Native, 64-byte aligned memory that only grows, so a
/// warm backend allocates nothing.
/// </summary>
internal sealed unsafe class ActivationBuffer : IDisposable
{
    private readonly List<(IntPtr Pointer, long Bytes)> _blocks = [];
    private long _codesBytes, _floatsBytes, _scalesBytes, _sumsBytes, _corrBytes, _bsumsBytes, _pairBytes, _biasPairBytes, _rawBytes;

    /// <summary>The form of the rows.</summary>
    public ActivationKind Kind { get; private set; }

    /// <summary>Rows held.</summary>
    public int Rows { get; private set; }

    /// <summary>Values per row.</summary>
    public int K { get; private set; }

    /// <summary>
    /// Code offset of the paired weight type; <see cref="Corr"/> (32-value blocks) holds −Bias · (sum of each 4
    /// codes), <see cref="BiasPairs"/> (Q8_K) Bias · (sum of each 2 codes).
    /// </summary>
    public int Bias { get; private set; }

    /// <summary>True when rows are kept as ggml block bytes (<see cref="Raw"/>) for the portable kernels.</summary>
    public bool Portable { get; private set; }

    /// <summary>Signed 8-bit codes, [Rows, K].</summary>
    public sbyte* Codes;
    /// <summary>f32 values for the float kinds, [Rows, K].</summary>
    public float* Floats;
    /// <summary>Block scales d as f32, [Rows, K/32] (Q8_0, Q8_1) or [Rows, K/256] (Q8_K).</summary>
    public float* Scales;
    /// <summary>Q8_1's s = d·Σq as f32, [Rows, K/32].</summary>
    public float* Sums;
    /// <summary>−Bias · (sum of codes 4i..4i+3), [Rows, K/4]; Q8_0/Q8_1 with Bias ≠ 0.</summary>
    public int* Corr;
    /// <summary>Bias · (codes 2i + 2i+1) as int16, [Rows, K/2]; Q8_K with Bias ≠ 0.</summary>
    public short* BiasPairs;
    /// <summary>Q8_K sums of each 16 codes, [Rows, K/16].</summary>
    public short* BlockSums;
    /// <summary>Q8_K sums of each 32 codes, [Rows, K/32] (the hadd of two block sums, for Q4_K/Q5_K mins).</summary>
    public short* PairSums;
    /// <summary>ggml block bytes of the vec_dot type, [Rows, RawStride] (portable path).</summary>
    public byte* Raw;
    /// <summary>Bytes per row of <see cref="Raw"/>.</summary>
    public int RawStride;

    /// <summary>Sizes the buffers for <paramref name="rows"/> rows of <paramref name="k"/> values of <paramref name="kind"/>.</summary>
    public void Prepare(ActivationKind kind, int bias, int rows, int k, bool portable)
    {
        Kind = kind;
        Bias = bias;
        Rows = rows;
        K = k;
        Portable = portable;
        long n = (long)rows * k;
        if (portable)
        {
            RawStride = checked((int)GgmlTypeInfo.Get(VecDotType(kind)).RowBytes(k));
            Raw = (byte*)Ensure(ref _rawBytes, (long)rows * RawStride, Raw);
            return;
        }
        switch (kind)
        {
            case ActivationKind.F32 or ActivationKind.F16 or ActivationKind.BF16:
                Floats = (float*)Ensure(ref _floatsBytes, n * sizeof(float), Floats);
                break;
            case ActivationKind.Q8_0 or ActivationKind.Q8_1:
                Codes = (sbyte*)Ensure(ref _codesBytes, n, Codes);
                Scales = (float*)Ensure(ref _scalesBytes, n / 32 * sizeof(float), Scales);
                if (kind == ActivationKind.Q8_1) Sums = (float*)Ensure(ref _sumsBytes, n / 32 * sizeof(float), Sums);
                break;
            case ActivationKind.Q8_K:
                Codes = (sbyte*)Ensure(ref _codesBytes, n, Codes);
                Scales = (float*)Ensure(ref _scalesBytes, n / 256 * sizeof(float), Scales);
                BlockSums = (short*)Ensure(ref _bsumsBytes, n / 16 * sizeof(short), BlockSums);
                PairSums = (short*)Ensure(ref _pairBytes, n / 32 * sizeof(short), PairSums);
                break;
        }
        if (bias != 0 && kind == ActivationKind.Q8_K) BiasPairs = (short*)Ensure(ref _biasPairBytes, n / 2 * sizeof(short), BiasPairs);
        else if (bias != 0) Corr = (int*)Ensure(ref _corrBytes, n / 4 * sizeof(int), Corr);
    }

    /// <summary>ggml's vec_dot type for an activation kind.</summary>
    public static GgmlType VecDotType(ActivationKind kind) => kind switch
    {
        ActivationKind.F32 => GgmlType.F32,
        ActivationKind.F16 => GgmlType.F16,
        ActivationKind.BF16 => GgmlType.BF16,
        ActivationKind.Q8_0 => GgmlType.Q8_0,
        ActivationKind.Q8_1 => GgmlType.Q8_1,
        _ => GgmlType.Q8_K,
    };

    private void* Ensure(ref long capacity, long bytes, void* current)
    {
        if (bytes <= capacity) return current;
        long size = Math.Max(bytes, capacity * 2);
        void* p = NativeMemory.AlignedAlloc((nuint)size + 64, 64); // +64: SIMD loads may overrun a row end by a vector
        _blocks.Add(((IntPtr)p, size));
        if (current is not null) Free(current);
        capacity = size;
        return p;
    }

    private void Free(void* p)
    {
        for (int i = 0; i < _blocks.Count; i++)
            if (_blocks[i].Pointer == (IntPtr)p)
            {
                NativeMemory.AlignedFree(p);
                _blocks.RemoveAt(i);
                return;
            }
    }

    /// <summary>Frees the native memory.</summary>
    public void Dispose()
    {
        foreach (var (p, _) in _blocks) NativeMemory.AlignedFree((void*)p);
        _blocks.Clear();
        _codesBytes = _floatsBytes = _scalesBytes = _sumsBytes = _corrBytes = _bsumsBytes = _pairBytes = _biasPairBytes = _rawBytes = 0;
        Codes = null; Floats = null; Scales = null; Sums = null; Corr = null; BiasPairs = null; BlockSums = null; PairSums = null; Raw = null;
    }
}
