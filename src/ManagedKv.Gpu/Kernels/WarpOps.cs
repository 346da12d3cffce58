using ILGPU;

namespace ManagedKv.Gpu.Kernels;

/// <summary>Warp-wide reductions by butterfly shuffles: every lane ends with the result, no shared memory.</summary>
internal static class WarpOps
{
    /// <summary>Sum over the warp.</summary>
    public static float Sum(float v)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1) v += Warp.ShuffleXor(v, offset);
        return v;
    }

    /// <summary>Maximum over the warp.</summary>
    public static float Max(float v)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
        {
            float o = Warp.ShuffleXor(v, offset);
            v = o > v ? o : v;
        }
        return v;
    }

    /// <summary>Integer sum over the warp (exact).</summary>
    public static int Sum(int v)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1) v += Warp.ShuffleXor(v, offset);
        return v;
    }

    /// <summary>Minimum over the warp.</summary>
    public static int Min(int v)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
        {
            int o = Warp.ShuffleXor(v, offset);
            v = o < v ? o : v;
        }
        return v;
    }
}
