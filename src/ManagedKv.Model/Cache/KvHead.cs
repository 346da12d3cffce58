namespace ManagedKv.Model.Cache;

/// <summary>
/// One KV head of one layer: a ragged list of tokens, each a (position, key after RoPE, value). Heads of
/// one layer may hold different tokens, which per-head eviction needs. Positions are the tokens' true
/// sequence positions and stay strictly increasing.
/// </summary>
public sealed class KvHead
{
    private int[] _positions = []; // [capacity]
    private readonly KvStorageType _keyType, _valueType; // the dense types a cleared head starts from again
    private readonly IKvRowsFactory? _factory;            // where dense rows live (null: managed memory)
    private readonly int _layer, _kvHead;                 // this head's place, for the factory

    /// <summary>Creates an empty head.</summary>
    public KvHead(KvStorageType keyType, KvStorageType valueType, int keyDim, int valueDim)
        : this(keyType, valueType, keyDim, valueDim, null, 0, 0)
    {
    }

    /// <summary>Creates an empty head of layer <paramref name="layer"/> whose dense rows come from <paramref name="factory"/>.</summary>
    public KvHead(KvStorageType keyType, KvStorageType valueType, int keyDim, int valueDim, IKvRowsFactory? factory, int layer, int kvHead)
    {
        _keyType = keyType;
        _valueType = valueType;
        _factory = factory;
        _layer = layer;
        _kvHead = kvHead;
        Keys = CreateRows(true, keyType, keyDim);
        Values = CreateRows(false, valueType, valueDim);
    }

    private KvRows CreateRows(bool keys, KvStorageType type, int width) =>
        _factory?.Create(_layer, _kvHead, keys, type, width) ?? KvRows.Create(type, width);

    /// <summary>Keys after RoPE, [Count, keyDim].</summary>
    public KvRows Keys { get; private set; }

    /// <summary>Values, [Count, valueDim].</summary>
    public KvRows Values { get; private set; }

    /// <summary>Tokens held.</summary>
    public int Count => Keys.Count;

    /// <summary>Positions of the held tokens, strictly increasing, [Count].</summary>
    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, Count);

    /// <summary>Bytes of the held keys, values and positions.</summary>
    public long ByteCount => Keys.ByteCount + Values.ByteCount + (long)Count * sizeof(int);

    /// <summary>Bytes allocated, spare capacity included.</summary>
    public long AllocatedBytes => Keys.AllocatedBytes + Values.AllocatedBytes + (long)_positions.Length * sizeof(int);

    /// <summary>Appends a token; its position must exceed every held position.</summary>
    internal void Append(int position, ReadOnlySpan<float> key, ReadOnlySpan<float> value)
    {
        if (Count > 0 && position <= _positions[Count - 1])
            throw new InvalidOperationException($"position {position} is not after the last cached position {_positions[Count - 1]}");
        if (Count == _positions.Length) Array.Resize(ref _positions, Math.Max(16, _positions.Length * 2));
        _positions[Count] = position;
        Keys.Append(key);
        Values.Append(value);
    }

    /// <summary>Makes room for <paramref name="extra"/> more tokens (see <see cref="KvRows.Reserve"/>).</summary>
    internal void Reserve(int extra)
    {
        int rows = checked(Count + extra);
        if (rows > _positions.Length) Array.Resize(ref _positions, _positions.Length == 0 ? rows : Math.Max(rows, 2 * _positions.Length));
        Keys.Reserve(rows);
        Values.Reserve(rows);
    }

    /// <summary>Keeps only the tokens at the given strictly increasing indices.</summary>
    internal void Keep(ReadOnlySpan<int> ascendingIndices)
    {
        Keys.Keep(ascendingIndices);
        Values.Keep(ascendingIndices);
        for (int j = 0; j < ascendingIndices.Length; j++) _positions[j] = _positions[ascendingIndices[j]];
        if (_positions.Length > 64 && ascendingIndices.Length < _positions.Length / 4)
            Array.Resize(ref _positions, ascendingIndices.Length);
    }

    /// <summary>Replaces the storage of keys and values (used by storage-changing plans).</summary>
    internal void ReplaceStorage(KvRows keys, KvRows values)
    {
        if (keys.Count != Count || values.Count != Count) throw new ArgumentException("replacement storage must hold the same tokens");
        if (!ReferenceEquals(keys, Keys)) Keys.Detach();
        if (!ReferenceEquals(values, Values)) Values.Detach();
        Keys = keys;
        Values = values;
    }

    /// <summary>
    /// Switches keys and values to KIVI storage (<see cref="Kivi.KiviKeyRows"/>, <see cref="Kivi.KiviValueRows"/>),
    /// quantising the held tokens; nothing happens when the head already uses <paramref name="format"/>.
    /// </summary>
    internal void Quantize(Kivi.KiviFormat format)
    {
        if (Keys is Kivi.KiviKeyRows { } k && k.Format == format && Values is Kivi.KiviValueRows { } v && v.Format == format) return;
        ReplaceStorage(Kivi.KiviKeyRows.From(Keys, format), Kivi.KiviValueRows.From(Values, format));
    }

    /// <summary>Drops every token (the head returns to its original dense storage).</summary>
    internal void Clear()
    {
        Keys.Detach();
        Values.Detach();
        Keys = CreateRows(true, _keyType, Keys.Width);
        Values = CreateRows(false, _valueType, Values.Width);
        _positions = [];
    }
}
