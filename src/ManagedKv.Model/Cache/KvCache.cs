namespace ManagedKv.Model.Cache;

/// <summary>
/// The KV cache of one sequence: per layer, per KV head, a ragged list of (position, key, value).
/// Tokens are added by the forward pass (<see cref="Append"/>); everything else that changes the cache goes
/// through <see cref="Apply"/>, the one mutator compression plans use, so edits are easy to audit.
/// </summary>
public sealed class KvCache
{
    private readonly KvHead[][] _heads; // [layers][kvHeads]

    /// <summary>Creates an empty cache; <paramref name="rows"/> (optional) supplies the dense row storage.</summary>
    public KvCache(int layers, int kvHeads, int keyDim, int valueDim, KvStorageType storage = KvStorageType.F32, IKvRowsFactory? rows = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kvHeads, 1);
        if (storage is not (KvStorageType.F32 or KvStorageType.F16))
            throw new ArgumentOutOfRangeException(nameof(storage), storage, "a cache starts dense (F32 or F16); quantised formats come from plans");
        LayerCount = layers;
        KvHeadCount = kvHeads;
        KeyDim = keyDim;
        ValueDim = valueDim;
        Storage = storage;
        _heads = new KvHead[layers][];
        for (int l = 0; l < layers; l++)
        {
            _heads[l] = new KvHead[kvHeads];
            for (int h = 0; h < kvHeads; h++) _heads[l][h] = new KvHead(storage, storage, keyDim, valueDim, rows, l, h);
        }
    }

    /// <summary>Layers.</summary>
    public int LayerCount { get; }

    /// <summary>KV heads per layer.</summary>
    public int KvHeadCount { get; }

    /// <summary>Key width per head.</summary>
    public int KeyDim { get; }

    /// <summary>Value width per head.</summary>
    public int ValueDim { get; }

    /// <summary>Storage type new tokens are written in.</summary>
    public KvStorageType Storage { get; }

    /// <summary>Length of the sequence seen so far: the next token's position. Eviction does not lower it.</summary>
    public int SequenceLength { get; private set; }

    /// <summary>The head <paramref name="kvHead"/> of layer <paramref name="layer"/>.</summary>
    public KvHead Head(int layer, int kvHead) => _heads[layer][kvHead];

    /// <summary>Tokens held, summed over layers and heads.</summary>
    public long TokenCount => _heads.Sum(l => l.Sum(h => (long)h.Count));

    /// <summary>True bytes held: keys, values and positions of every held token.</summary>
    public long ByteCount => _heads.Sum(l => l.Sum(h => h.ByteCount));

    /// <summary>Bytes allocated including spare capacity of growable buffers.</summary>
    public long AllocatedBytes => _heads.Sum(l => l.Sum(h => h.AllocatedBytes));

    /// <summary>Bytes a full (uncompressed) cache of <see cref="SequenceLength"/> tokens would hold.</summary>
    public long FullCacheBytes =>
        (long)SequenceLength * LayerCount * KvHeadCount * (KvRowsBytes(KeyDim) + KvRowsBytes(ValueDim) + sizeof(int));

    private int KvRowsBytes(int width) => width * (Storage == KvStorageType.F32 ? 4 : 2);

    /// <summary>
    /// Makes room in every head of <paramref name="layer"/> for <paramref name="tokens"/> more tokens, as a
    /// forward pass does before appending a batch: the buffers grow at most once (see <see cref="KvRows.Reserve"/>).
    /// </summary>
    public void Reserve(int layer, int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        foreach (var head in _heads[layer]) head.Reserve(tokens);
    }

    /// <summary>Appends one token's key and value rows for one layer and head.</summary>
    public void Append(int layer, int kvHead, int position, ReadOnlySpan<float> key, ReadOnlySpan<float> value)
    {
        _heads[layer][kvHead].Append(position, key, value);
        if (position >= SequenceLength) SequenceLength = position + 1;
    }

    /// <summary>
    /// Applies a compression plan: the one way anything but the forward pass edits the cache. Evicted tokens'
    /// bytes are released (storage compacts in place and shrinks when much smaller than its buffer). A
    /// <see cref="Compression.QuantizePlan"/> switches every head of the layer to KIVI storage, whose dense buffers
    /// are dropped; later tokens are quantised by that storage as the forward pass appends them.
    /// </summary>
    /// <exception cref="ArgumentException">The plan does not fit this cache (layer, head count, indices).</exception>
    public void Apply(Compression.KvPlan plan)
    {
        if ((uint)plan.Layer >= (uint)LayerCount) throw new ArgumentException($"plan for layer {plan.Layer}; the cache has {LayerCount}");
        switch (plan)
        {
            case Compression.KeepPlan keep:
                if (keep.KeepPerHead.Count != KvHeadCount)
                    throw new ArgumentException($"keep plan has {keep.KeepPerHead.Count} heads; the cache has {KvHeadCount}");
                for (int h = 0; h < KvHeadCount; h++) _heads[plan.Layer][h].Keep(keep.KeepPerHead[h]);
                break;
            case Compression.MergePlan merge:
                ApplyMerge(merge);
                break;
            case Compression.QuantizePlan quantize:
                quantize.Format.Validate();
                for (int h = 0; h < KvHeadCount; h++) _heads[plan.Layer][h].Quantize(quantize.Format);
                break;
            default:
                throw new ArgumentException($"unsupported plan type {plan.GetType().Name}");
        }
    }

    /// <summary>
    /// Merges a layer pair (MiniCache): per KV head, keys and values of both layers become <see cref="MergedKvRows"/>
    /// sharing one direction per merged row. Everything is built and checked before any head is replaced, so a bad
    /// plan leaves the cache as it was.
    /// </summary>
    private void ApplyMerge(Compression.MergePlan merge)
    {
        if ((uint)merge.LowerLayer >= (uint)LayerCount || merge.LowerLayer == merge.Layer)
            throw new ArgumentException($"merge plan pairs layer {merge.Layer} with layer {merge.LowerLayer}; the cache has {LayerCount}");
        if (merge.RetainedKeys.Count != KvHeadCount || merge.RetainedValues.Count != KvHeadCount)
            throw new ArgumentException($"merge plan has {merge.RetainedKeys.Count}/{merge.RetainedValues.Count} heads; the cache has {KvHeadCount}");
        if (!(merge.T >= 0 && merge.T <= 1)) throw new ArgumentException($"merge plan has t = {merge.T}; it must be in [0, 1]");
        var lower = _heads[merge.LowerLayer];
        var upper = _heads[merge.Layer];
        var keys = new (MergedKvRows Lower, MergedKvRows Upper)[KvHeadCount];
        var values = new (MergedKvRows Lower, MergedKvRows Upper)[KvHeadCount];
        for (int h = 0; h < KvHeadCount; h++)
        {
            if (!lower[h].Positions.SequenceEqual(upper[h].Positions))
                throw new ArgumentException($"layers {merge.LowerLayer} and {merge.Layer} hold different tokens in KV head {h}; only aligned heads can merge");
            keys[h] = MergedKvRows.Merge(lower[h].Keys, upper[h].Keys, merge.RetainedKeys[h], merge.T, Storage);
            values[h] = MergedKvRows.Merge(lower[h].Values, upper[h].Values, merge.RetainedValues[h], merge.T, Storage);
        }
        for (int h = 0; h < KvHeadCount; h++)
        {
            lower[h].ReplaceStorage(keys[h].Lower, values[h].Lower);
            upper[h].ReplaceStorage(keys[h].Upper, values[h].Upper);
        }
    }

    /// <summary>Drops every token and resets the sequence length.</summary>
    public void Clear()
    {
        foreach (var layer in _heads)
            foreach (var head in layer) head.Clear();
        SequenceLength = 0;
    }
}
