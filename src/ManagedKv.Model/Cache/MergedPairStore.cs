namespace ManagedKv.Model.Cache;

/// <summary>
/// The part of a merged layer pair that both layers read, for the keys (or the values) of one KV head: one unit
/// direction per merged row and the indices of the rows retained unmerged. Two <see cref="MergedKvRows"/>
/// (lower and upper layer) reference one store; its bytes are counted once, by the lower layer while that layer
/// still holds it, else by the upper layer (see <see cref="MergedKvRows.CountsSharedBytes"/>).
/// </summary>
internal sealed class MergedPairStore
{
    /// <summary>Creates the store from the built directions and the retained row indices.</summary>
    public MergedPairStore(KvRows directions, int[] retained)
    {
        Directions = directions;
        Retained = retained;
    }

    /// <summary>Unit SLERP directions of the merged rows, in row order, [merged, width].</summary>
    public KvRows Directions { get; }

    /// <summary>Ascending indices (into the pair's rows at merge time) of the rows kept unmerged, [retained].</summary>
    public int[] Retained { get; }

    /// <summary>Whether the lower layer still holds its <see cref="MergedKvRows"/> on this store.</summary>
    public bool LowerAttached { get; set; } = true;

    /// <summary>Whether the upper layer still holds its <see cref="MergedKvRows"/> on this store.</summary>
    public bool UpperAttached { get; set; } = true;

    /// <summary>Bytes held: the directions plus one int per retained index.</summary>
    public long ByteCount => Directions.ByteCount + (long)Retained.Length * sizeof(int);

    /// <summary>Bytes allocated (the directions are trimmed to size when built).</summary>
    public long AllocatedBytes => Directions.AllocatedBytes + (long)Retained.Length * sizeof(int);
}
