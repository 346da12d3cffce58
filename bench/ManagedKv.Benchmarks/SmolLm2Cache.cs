using ManagedKv.Model.Cache;

namespace ManagedKv.Benchmarks;

/// <summary>
/// A KV cache of SmolLM2-135M's attention shape (9 query heads over 3 KV heads of 64) filled with seeded random keys
/// and values at positions 0…tokens−1, written only with APIs that predate the attention statistics.
/// </summary>
public static class SmolLm2Cache
{
    /// <summary>Query heads.</summary>
    public const int Heads = 9;

    /// <summary>KV heads.</summary>
    public const int KvHeads = 3;

    /// <summary>Head width (keys and values).</summary>
    public const int HeadDim = 64;

    /// <summary>Blocks of the model.</summary>
    public const int Layers = 30;

    /// <summary>A cache of <paramref name="layers"/> layers; <paramref name="filled"/> of them hold <paramref name="tokens"/> tokens.</summary>
    public static KvCache Create(int layers, IEnumerable<int> filled, int tokens, int seed = 42)
    {
        var cache = new KvCache(layers, KvHeads, HeadDim, HeadDim);
        var random = new Random(seed);
        var key = new float[HeadDim];   // [headDim]
        var value = new float[HeadDim]; // [headDim]
        foreach (int layer in filled)
            for (int t = 0; t < tokens; t++)
                for (int h = 0; h < KvHeads; h++)
                {
                    Fill(random, key);
                    Fill(random, value);
                    cache.Append(layer, h, t, key, value);
                }
        return cache;
    }

    /// <summary>Fills <paramref name="values"/> with uniform values in [−1, 1).</summary>
    public static void Fill(Random random, Span<float> values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
    }
}
