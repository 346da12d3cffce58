using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ManagedKv.Model.Synthesis;

/// <summary>
/// Standard normal samples in single precision, identical to NumPy's
/// <c>Generator.standard_normal(dtype=np.float32)</c> (<c>random_standard_normal_f</c> in
/// numpy/random/src/distributions/distributions.c): the Marsaglia–Tsang ziggurat with 256 layers over
/// 32-bit draws from <see cref="Pcg64"/>. Given the same generator state, the same float values come out.
/// </summary>
/// <remarks>
/// <para>Each sample takes one 32-bit draw r: bits 0–7 pick a layer i, bit 8 the sign, bits 9–31 an
/// integer m; x = m·w[i]. About 99% of the time m &lt; k[i] and x lies inside the layer's rectangle, so it
/// is returned at once. Otherwise layer 0 samples the tail beyond r = 3.654… by Marsaglia's method, and the
/// other layers accept x when a uniform point under the layer's edge falls below the density.</para>
/// <para>The tables are computed here from their definition, the same way NumPy's were (they agree with
/// NumPy's ziggurat_constants.h entry for entry): layer boundaries x_255 = r, x_{i−1} = f⁻¹(v/x_i + f(x_i))
/// with f(x) = exp(−x²/2) and v the common layer area; w[i] = x_i / 2^23, f[i] = f(x_i), and
/// k[i] = round(2^23 · x_{i−1}/x_i), with x_0 = v / f(r) standing for the base strip including the tail.</para>
/// </remarks>
public static class StandardNormal
{
    private const int Layers = 256;

    /// <summary>Where the tail starts, NumPy's <c>ziggurat_nor_r</c>.</summary>
    private const double R = 3.6541528853610087963519472518;

    /// <summary>
    /// The area of each layer, r·f(r) + ∫_r^∞ f = r·f(r) + √(π/2)·erfc(r/√2). Written out because .NET has no
    /// erfc; the value is that expression evaluated in double precision.
    /// </summary>
    private const double LayerArea = 0.004928673233974658;

    private static readonly float RSingle = (float)R;
    private static readonly float InvRSingle = (float)(1.0 / R);
    private static readonly Ziggurat Table = Ziggurat.Build();

    /// <summary>One sample.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Next(ref Pcg64 rng)
    {
        uint r = rng.NextUInt32();
        float x = Candidate(r, out int idx, out uint rabs);
        return rabs < At(Table.K, idx) ? x : Rejected(ref rng, r, x);   // inside the layer's rectangle ~99% of the time
    }

    /// <summary>Fills <paramref name="destination"/> with consecutive samples (NumPy's <c>random_standard_normal_fill_f</c>).</summary>
    public static void Fill(ref Pcg64 rng, Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = Next(ref rng);
    }

    /// <summary>Advances <paramref name="rng"/> past <paramref name="count"/> samples without keeping them.</summary>
    public static void Skip(ref Pcg64 rng, long count)
    {
        for (long i = 0; i < count; i++) Next(ref rng);
    }

    /// <summary>Decodes a draw: layer (bits 0–7), sign (bit 8) and 23-bit magnitude; returns x = ±m·w[layer].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Candidate(uint r, out int idx, out uint rabs)
    {
        idx = (int)(r & 0xff);
        rabs = (r >> 9) & 0x007fffff;
        float x = rabs * At(Table.W, idx);
        return ((r >> 8) & 1) != 0 ? -x : x;
    }

    /// <summary>A table entry without a bounds check: every index is a byte and every table has 256 entries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T At<T>(T[] table, int idx) => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(table), idx);

    /// <summary>The rare rest of NumPy's loop, entered when draw <paramref name="r"/> fell outside its layer's rectangle.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Rejected(ref Pcg64 rng, uint r, float x)
    {
        float[] f = Table.F;
        while (true)
        {
            int idx = (int)(r & 0xff);
            uint rabs = (r >> 9) & 0x007fffff;
            if (idx == 0)
            {
                // The tail beyond R: exponential proposals, accepted when 2y > x².
                while (true)
                {
                    float xx = -InvRSingle * Log1pSingle.Log1p(-rng.NextSingle());
                    float yy = -Log1pSingle.Log1p(-rng.NextSingle());
                    if (yy + yy > xx * xx)
                        return ((rabs >> 8) & 1) != 0 ? -(RSingle + xx) : RSingle + xx;
                }
            }
            // The wedge: NumPy compares a float against the double exp(−x²/2); keep both precisions.
            if ((f[idx - 1] - f[idx]) * rng.NextSingle() + f[idx] < Math.Exp(-0.5 * x * x)) return x;

            // Rejected: start over with a fresh draw, as NumPy's loop does.
            r = rng.NextUInt32();
            x = Candidate(r, out idx, out rabs);
            if (rabs < At(Table.K, idx)) return x;
        }
    }

    /// <summary>The ziggurat's tables, computed once from their definition (see the type's remarks).</summary>
    private sealed class Ziggurat
    {
        public readonly uint[] K = new uint[Layers];    // acceptance thresholds on the 23-bit integer
        public readonly float[] W = new float[Layers];  // layer widths / 2^23
        public readonly float[] F = new float[Layers];  // density at each layer's right edge

        public static Ziggurat Build()
        {
            static double Density(double x) => Math.Exp(-0.5 * x * x);
            const double scale = 1 << 23;
            var t = new Ziggurat();

            var x = new double[Layers];
            x[Layers - 1] = R;
            for (int i = Layers - 1; i > 1; i--) x[i - 1] = Math.Sqrt(-2 * Math.Log(LayerArea / x[i] + Density(x[i])));
            double baseWidth = LayerArea / Density(R);   // the base strip and the tail, as one rectangle

            t.K[0] = (uint)Math.Round(R / baseWidth * scale);
            t.K[1] = 0;
            t.W[0] = (float)(baseWidth / scale);
            t.W[Layers - 1] = (float)(R / scale);
            t.F[0] = 1f;
            t.F[Layers - 1] = (float)Density(R);
            for (int i = Layers - 2; i > 0; i--)
            {
                t.K[i + 1] = (uint)Math.Round(x[i] / x[i + 1] * scale);
                t.F[i] = (float)Density(x[i]);
                t.W[i] = (float)(x[i] / scale);
            }
            return t;
        }
    }
}
