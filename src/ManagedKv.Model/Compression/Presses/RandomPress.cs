namespace ManagedKv.Model.Compression.Presses;

/// <summary>
/// Baseline that keeps a random subset per head. Scores come from a hash of (seed, layer, head, position), so
/// the plan is reproducible and independent of the order heads are processed in.
/// </summary>
public sealed class RandomPress : ScorerPress
{
    /// <summary>Registry entry.</summary>
    public static PressDescriptor Descriptor { get; } = new("random", "keep a seeded random subset of tokens (baseline)", "kvpress RandomPress baseline",
        [new("seed", "int", "0", "seed of the per-token random scores"), .. HeadBudgetParameters, .. LayerBudgetParameters],
        a => new RandomPress { Budget = a.Budget, Seed = a.Int("seed") });

    /// <inheritdoc/>
    public override string Name => "random";

    /// <summary>Seed of the scores.</summary>
    public int Seed { get; init; }

    /// <inheritdoc/>
    public override void Score(PressContext context, int kvHead, Span<float> scores)
    {
        var positions = context.Head(kvHead).Positions;
        for (int i = 0; i < scores.Length; i++)
            scores[i] = Hash((uint)Seed, (uint)context.Layer, (uint)kvHead, (uint)positions[i]) / (float)uint.MaxValue;
    }

    // splitmix-style mixing: a fixed, documented function rather than System.Random's unspecified stream.
    private static uint Hash(uint a, uint b, uint c, uint d)
    {
        ulong x = a * 0x9E3779B97F4A7C15UL ^ b * 0xBF58476D1CE4E5B9UL ^ c * 0x94D049BB133111EBUL ^ d * 0xD6E8FEB86659FD93UL;
        x ^= x >> 30; x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27; x *= 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return (uint)(x >> 32);
    }
}
