namespace ManagedKv.Model.Synthesis;

/// <summary>
/// log(1 + x) in single precision, computed with the exact sequence of float operations of the fdlibm
/// algorithm (Sun Microsystems, 1993; float version by Ian Lance Taylor) that glibc's <c>log1pf</c> uses.
/// NumPy's float normal sampler calls <c>log1pf</c> in its tail, and a correctly rounded log1p differs
/// from it in the last bit now and then, so reproducing NumPy's samples needs this very algorithm.
/// .NET has no float log1p of its own.
/// </summary>
/// <remarks>
/// Method: reduce 1 + x = 2^k · (1 + f) with √2/2 ≤ 1 + f &lt; √2, keeping the rounding error of 1 + x as a
/// correction c; then log(1 + f) = f − f²/2 + s·(f²/2 + R(s²)) with s = f / (2 + f) and R a minimax
/// polynomial; finally add k·ln2 split into a high part (exact in float) and a low part.
/// Every operation below is a float operation on purpose; do not "simplify" it into double arithmetic.
/// </remarks>
internal static class Log1pSingle
{
    private static readonly float Ln2Hi = BitConverter.Int32BitsToSingle(0x3f317180);   // 6.9313812256e-01
    private static readonly float Ln2Lo = BitConverter.Int32BitsToSingle(0x3717f7d1);   // 9.0580006145e-06
    private static readonly float Lp1 = BitConverter.Int32BitsToSingle(0x3F2AAAAB);
    private static readonly float Lp2 = BitConverter.Int32BitsToSingle(0x3ECCCCCD);
    private static readonly float Lp3 = BitConverter.Int32BitsToSingle(0x3E924925);
    private static readonly float Lp4 = BitConverter.Int32BitsToSingle(0x3E638E29);
    private static readonly float Lp5 = BitConverter.Int32BitsToSingle(0x3E3A3325);
    private static readonly float Lp6 = BitConverter.Int32BitsToSingle(0x3E1CD04F);
    private static readonly float Lp7 = BitConverter.Int32BitsToSingle(0x3E178897);

    /// <summary>log(1 + <paramref name="x"/>); −∞ at −1 and NaN below it.</summary>
    public static float Log1p(float x)
    {
        int hx = BitConverter.SingleToInt32Bits(x);
        int ax = hx & 0x7fffffff;
        int k = 1;
        float f = 0, c = 0;
        int hu = 0;

        if (hx < 0x3ed413d7)   // x < 0.41422 (including every negative x)
        {
            if (ax >= 0x3f800000) return x == -1f ? float.NegativeInfinity : float.NaN;   // x ≤ −1
            if (ax < 0x31000000)   // |x| < 2^-29: log1p(x) ≈ x − x²/2
                return ax < 0x24800000 ? x : x - x * x * 0.5f;
            if (hx > 0 || hx <= unchecked((int)0xbe95f61f))   // −0.2929 < x < 0.41422: no reduction
            {
                k = 0;
                f = x;
                hu = 1;
            }
        }
        if (hx >= 0x7f800000) return x + x;   // +∞ or NaN
        if (k != 0)
        {
            float u;
            if (hx < 0x5a000000)
            {
                u = 1f + x;
                hu = BitConverter.SingleToInt32Bits(u);
                k = (hu >> 23) - 127;
                c = k > 0 ? 1f - (u - x) : x - (u - 1f);   // the rounding error of 1 + x
                c /= u;
            }
            else
            {
                u = x;
                hu = BitConverter.SingleToInt32Bits(u);
                k = (hu >> 23) - 127;
                c = 0;
            }
            hu &= 0x007fffff;
            if (hu < 0x3504f7)
            {
                u = BitConverter.Int32BitsToSingle(hu | 0x3f800000);   // normalise u to [1, √2)
            }
            else
            {
                k += 1;
                u = BitConverter.Int32BitsToSingle(hu | 0x3f000000);   // normalise u/2 to [√2/2, 1)
                hu = (0x00800000 - hu) >> 2;
            }
            f = u - 1f;
        }

        float hfsq = 0.5f * f * f;
        if (hu == 0)   // |f| < 2^-20
        {
            if (f == 0f)
            {
                if (k == 0) return 0f;
                c += k * Ln2Lo;
                return k * Ln2Hi + c;
            }
            float r0 = hfsq * (1f - (float)(2.0 / 3.0) * f);
            return k == 0 ? f - r0 : k * Ln2Hi - ((r0 - (k * Ln2Lo + c)) - f);
        }
        float s = f / (2f + f);
        float z = s * s;
        float r = z * (Lp1 + z * (Lp2 + z * (Lp3 + z * (Lp4 + z * (Lp5 + z * (Lp6 + z * Lp7))))));
        return k == 0
            ? f - (hfsq - s * (hfsq + r))
            : k * Ln2Hi - ((hfsq - (s * (hfsq + r) + (k * Ln2Lo + c))) - f);
    }
}
