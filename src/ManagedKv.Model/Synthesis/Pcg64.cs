using System.Numerics;

namespace ManagedKv.Model.Synthesis;

/// <summary>
/// NumPy's default bit generator, bit for bit: PCG64 (a 128-bit linear congruential generator with the
/// XSL-RR output function, O'Neill 2014), seeded through NumPy's <c>SeedSequence</c>, and handing out
/// 32-bit draws the way NumPy's <c>pcg64_next32</c> does (the low half of a 64-bit draw first, the high
/// half on the next call). <c>Pcg64.FromSeed(s)</c> therefore produces the same stream as
/// <c>numpy.random.default_rng(s)</c>.
/// </summary>
/// <remarks>
/// A mutable value type: copying it takes a snapshot of the stream (used to restart generation at a
/// recorded position), and methods must be called on a variable, not on a copy.
/// </remarks>
public struct Pcg64
{
    // PCG's default 128-bit multiplier, 2549297995355413924 · 2^64 + 4865540595714422341.
    private const ulong MulHi = 2549297995355413924UL;
    private const ulong MulLo = 4865540595714422341UL;

    private ulong _stateHi, _stateLo;
    private readonly ulong _incHi, _incLo;
    private bool _hasHalf;
    private uint _half;

    private Pcg64(ulong incHi, ulong incLo)
    {
        _incHi = incHi;
        _incLo = incLo;
    }

    /// <summary>The generator <c>numpy.random.default_rng(seed)</c> wraps.</summary>
    public static Pcg64 FromSeed(ulong seed)
    {
        // _pcg64.pyx: the seed sequence gives four uint64 words (pairs of uint32, low word first);
        // words 0-1 are the initial state and words 2-3 the stream selector, high word first.
        uint[] w = SeedSequence.GenerateState(seed, 8);
        ulong Word(int i) => w[2 * i] | (ulong)w[2 * i + 1] << 32;
        ulong initHi = Word(0), initLo = Word(1), seqHi = Word(2), seqLo = Word(3);

        // pcg_setseq_128_srandom_r: inc = (initseq << 1) | 1; state = 0; step; state += initstate; step.
        var rng = new Pcg64((seqHi << 1) | (seqLo >> 63), (seqLo << 1) | 1);
        rng.Step();
        ulong lo = rng._stateLo + initLo;
        rng._stateHi += initHi + (lo < initLo ? 1UL : 0UL);
        rng._stateLo = lo;
        rng.Step();
        return rng;
    }

    /// <summary>The next 64-bit output (NumPy's <c>next_uint64</c>).</summary>
    public ulong NextUInt64()
    {
        Step();
        // XSL-RR: xor the halves, rotate right by the top six bits of the state.
        return BitOperations.RotateRight(_stateHi ^ _stateLo, (int)(_stateHi >> 58));
    }

    /// <summary>The next 32-bit output (NumPy's <c>next_uint32</c>: each 64-bit draw serves two calls, low half first).</summary>
    public uint NextUInt32()
    {
        if (_hasHalf)
        {
            _hasHalf = false;
            return _half;
        }
        ulong next = NextUInt64();
        _hasHalf = true;
        _half = (uint)(next >> 32);
        return (uint)next;
    }

    /// <summary>A uniform float in [0, 1) with 24 random bits (NumPy's <c>next_float</c>).</summary>
    public float NextSingle() => (NextUInt32() >> 8) * (1.0f / 16777216.0f);

    private void Step()
    {
        // state = state · multiplier + increment (mod 2^128)
        ulong hi = Math.BigMul(_stateLo, MulLo, out ulong lo);
        hi += _stateLo * MulHi + _stateHi * MulLo;
        lo += _incLo;
        hi += _incHi + (lo < _incLo ? 1UL : 0UL);
        _stateHi = hi;
        _stateLo = lo;
    }
}
