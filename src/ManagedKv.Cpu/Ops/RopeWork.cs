using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Threading;
using ManagedKv.Model.Config;
using ManagedKv.Model.Inference;

namespace ManagedKv.Cpu.Ops;

/// <summary>
/// RoPE over rows of [heads, headDim] vectors. cos/sin come from <see cref="RopeParameters.Angles"/> (ggml's
/// exact angle recurrence) once per distinct (parameters, positions) — the forward pass rotates Q and K of every
/// layer at the same positions, so the table is computed once per forward call. The rotation is ggml's
/// rotate_pairs as GCC contracted it (<see cref="ManagedKv.Model.Numerics.GgmlRope"/>): fma(x0, cos, −(x1·sin)) and
/// fma(x0, sin, x1·cos), vectorised, so results are bit-identical to llama.cpp's.
/// </summary>
internal sealed unsafe class RopeWork : IParallelWork
{
    private const int RowsPerItem = 16;
    private RopeParameters? _params;
    private int[] _positions = [];     // [count] positions the table holds
    private int _count;
    private float[] _cos = [];         // [count, dims] cos per element (Norm: duplicated per pair; NeoX: first half)
    private float[] _sin = [];         // [count, dims] sin with the sign of its term (Norm: −s, +s per pair)
    private float* _x;
    private int _rows, _cols, _heads, _headDim;

    /// <summary>Configures a rotation of rows [0, positions.Length) of x ([rows, cols]) and returns the item count.</summary>
    public int Set(float* x, int cols, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope)
    {
        EnsureTable(positions, rope);
        _x = x;
        _rows = positions.Length;
        _cols = cols;
        _heads = heads;
        _headDim = headDim;
        return (_rows + RowsPerItem - 1) / RowsPerItem;
    }

    private void EnsureTable(ReadOnlySpan<int> positions, RopeParameters rope)
    {
        if (ReferenceEquals(rope, _params) && positions.SequenceEqual(_positions.AsSpan(0, _count))) return;
        int dims = rope.Dimensions, half = dims / 2;
        int n = positions.Length;
        if (_positions.Length < n)
        {
            int capacity = Math.Max(n, 2 * _positions.Length);
            _positions = new int[capacity];
        }
        if (_cos.Length < n * dims)
        {
            int capacity = Math.Max(n * dims, 2 * _cos.Length);
            _cos = GC.AllocateArray<float>(capacity, pinned: true);
            _sin = GC.AllocateArray<float>(capacity, pinned: true);
        }
        Span<float> cos = stackalloc float[half];
        Span<float> sin = stackalloc float[half];
        for (int r = 0; r < n; r++)
        {
            rope.Angles(positions[r], cos, sin);
            var c = _cos.AsSpan(r * dims, dims);
            var s = _sin.AsSpan(r * dims, dims);
            for (int i = 0; i < half; i++)
            {
                if (rope.Style == RopeStyle.Norm)
                {
                    c[2 * i] = c[2 * i + 1] = cos[i];
                    s[2 * i] = -sin[i];
                    s[2 * i + 1] = sin[i];
                }
                else
                {
                    c[i] = cos[i];
                    s[i] = sin[i];
                }
            }
        }
        positions.CopyTo(_positions);
        _count = n;
        _params = rope;
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int item, int worker)
    {
        int dims = _params!.Dimensions, half = dims / 2;
        bool norm = _params.Style == RopeStyle.Norm;
        int end = Math.Min(_rows, (item + 1) * RowsPerItem);
        fixed (float* cosTable = _cos, sinTable = _sin)
        {
            for (int r = item * RowsPerItem; r < end; r++)
            {
                float* c = cosTable + r * dims, s = sinTable + r * dims;
                for (int h = 0; h < _heads; h++)
                {
                    float* v = _x + (long)r * _cols + h * _headDim;
                    if (norm) RotateNorm(v, c, s, dims);
                    else RotateNeox(v, c, s, half);
                }
            }
        }
    }

    private static void RotateNorm(float* v, float* c, float* s, int dims)
    {
        int i = 0;
        if (Fma.IsSupported)
        {
            for (; i + 8 <= dims; i += 8)
            {
                // even lanes fma(x0, cos, −(x1·sin)), odd lanes fma(x0, sin, x1·cos): s holds −sin, +sin per pair
                Vector256<float> x = Avx.LoadVector256(v + i), cv = Avx.LoadVector256(c + i), sv = Avx.LoadVector256(s + i);
                Vector256<float> swapped = Avx.Permute(x, 0b10_11_00_01);
                Vector256<float> even = Fma.MultiplyAdd(x, cv, Avx.Multiply(swapped, sv));
                Vector256<float> odd = Fma.MultiplyAdd(swapped, sv, Avx.Multiply(x, cv));
                Avx.Store(v + i, Avx.Blend(even, odd, 0b1010_1010));
            }
        }
        for (; i < dims; i += 2)
        {
            float x0 = v[i], x1 = v[i + 1];
            v[i] = MathF.FusedMultiplyAdd(x0, c[i], -(x1 * s[i + 1]));
            v[i + 1] = MathF.FusedMultiplyAdd(x0, s[i + 1], x1 * c[i]);
        }
    }

    private static void RotateNeox(float* v, float* c, float* s, int half)
    {
        int i = 0;
        if (Fma.IsSupported)
        {
            for (; i + 8 <= half; i += 8)
            {
                Vector256<float> x0 = Avx.LoadVector256(v + i), x1 = Avx.LoadVector256(v + half + i);
                Vector256<float> cv = Avx.LoadVector256(c + i), sv = Avx.LoadVector256(s + i);
                Avx.Store(v + i, Fma.MultiplySubtract(x0, cv, Avx.Multiply(x1, sv)));
                Avx.Store(v + half + i, Fma.MultiplyAdd(x0, sv, Avx.Multiply(x1, cv)));
            }
        }
        for (; i < half; i++)
        {
            float x0 = v[i], x1 = v[i + half];
            v[i] = MathF.FusedMultiplyAdd(x0, c[i], -(x1 * s[i]));
            v[i + half] = MathF.FusedMultiplyAdd(x0, s[i], x1 * c[i]);
        }
    }
}
