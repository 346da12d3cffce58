namespace ManagedKv.Model.Cache;

/// <summary>
/// Supplies the row storage of a <see cref="KvCache"/>: the seam through which a backend keeps the dense keys and
/// values somewhere other than managed memory (the GPU backend keeps them in device buffers). Without a factory
/// the cache uses <see cref="KvRows.Create"/>. Storage a compression plan switches a head to (KIVI, merged pairs)
/// is built by the plan, not by the factory.
/// </summary>
public interface IKvRowsFactory
{
    /// <summary>Creates the empty dense key (<paramref name="keys"/> true) or value rows of one layer and KV head.</summary>
    /// <param name="layer">The layer.</param>
    /// <param name="kvHead">The KV head within the layer.</param>
    /// <param name="keys">True for the keys, false for the values.</param>
    /// <param name="type">The cache's dense storage type (F32 or F16).</param>
    /// <param name="width">Elements per row.</param>
    KvRows Create(int layer, int kvHead, bool keys, KvStorageType type, int width);
}
