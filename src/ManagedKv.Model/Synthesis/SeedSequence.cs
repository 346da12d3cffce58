namespace ManagedKv.Model.Synthesis;

/// <summary>
/// NumPy's <c>SeedSequence</c> (numpy/random/bit_generator.pyx) for an integer seed with no spawn key:
/// the seed's 32-bit words are hashed into a pool of four words, and output words are hashed out of
/// the pool. This is Melissa O'Neill's <c>seed_seq_fe</c> design; NumPy uses it to turn
/// <c>default_rng(seed)</c> into a PCG64 state, so reproducing it makes <see cref="Pcg64.FromSeed"/>
/// start exactly where NumPy's generator starts.
/// </summary>
internal static class SeedSequence
{
    private const int PoolSize = 4;
    private const uint InitA = 0x43b0d7e5;
    private const uint MultA = 0x931e8875;
    private const uint InitB = 0x8b51f9dd;
    private const uint MultB = 0x58f38ded;
    private const uint MixMultL = 0xca01f9dd;
    private const uint MixMultR = 0x4973f715;
    private const int XShift = 16;   // half the word size

    /// <summary>The first <paramref name="count"/> 32-bit words of <c>SeedSequence(seed).generate_state(count, uint32)</c>.</summary>
    public static uint[] GenerateState(ulong seed, int count)
    {
        // NumPy splits a Python int into little-endian 32-bit words; 0 is the single word 0.
        uint[] entropy = seed >> 32 == 0 ? [(uint)seed] : [(uint)seed, (uint)(seed >> 32)];

        Span<uint> pool = stackalloc uint[PoolSize];
        uint hashConst = InitA;
        for (int i = 0; i < PoolSize; i++) pool[i] = HashMix(i < entropy.Length ? entropy[i] : 0, ref hashConst);
        for (int src = 0; src < PoolSize; src++)
            for (int dst = 0; dst < PoolSize; dst++)
                if (src != dst) pool[dst] = Mix(pool[dst], HashMix(pool[src], ref hashConst));
        for (int src = PoolSize; src < entropy.Length; src++)
            for (int dst = 0; dst < PoolSize; dst++)
                pool[dst] = Mix(pool[dst], HashMix(entropy[src], ref hashConst));

        var state = new uint[count];
        uint outConst = InitB;
        for (int i = 0; i < count; i++)
        {
            uint value = pool[i % PoolSize] ^ outConst;
            outConst *= MultB;
            value *= outConst;
            state[i] = value ^ (value >> XShift);
        }
        return state;
    }

    private static uint HashMix(uint value, ref uint hashConst)
    {
        value ^= hashConst;
        hashConst *= MultA;
        value *= hashConst;
        return value ^ (value >> XShift);
    }

    private static uint Mix(uint x, uint y)
    {
        uint result = MixMultL * x - MixMultR * y;
        return result ^ (result >> XShift);
    }
}
