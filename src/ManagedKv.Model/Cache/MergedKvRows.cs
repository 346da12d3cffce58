using System.Numerics.Tensors;

namespace ManagedKv.Model.Cache;

/// <summary>
/// The keys (or values) of one KV head of one layer of a MiniCache-merged layer pair. The first
/// <see cref="MergedCount"/> + <see cref="RetainedCount"/> rows are the merge region (the tokens held when the pair
/// was merged), in token order:
/// <list type="bullet">
/// <item>a merged row is restored as x̂ = e·‖x‖: the unit direction e shared with the partner layer (one row for the
/// pair, in <see cref="MergedPairStore"/>) times this layer's own magnitude (one f32 per row);</item>
/// <item>a retained row (the pair's most distinct rows) is this layer's original row, unchanged.</item>
/// </list>
/// Rows appended after the merge (decoding) follow the region and are stored whole. Directions, retained and
/// appended rows use the cache's element format (<see cref="StorageType"/>).
/// </summary>
public sealed class MergedKvRows : KvRows
{
    private const int WeightChunk = 256;

    private readonly MergedPairStore _shared;
    private readonly bool _isLower;
    private readonly KvRows _retained; // [retained, width] this layer's original rows, in row order
    private readonly KvRows _appended; // [appended, width] rows appended after the merge
    private float[] _magnitudes;       // [merged] ‖x‖ of this layer's merged rows, in row order
    private int[] _retainedRows;       // [retained] ascending region row indices of the retained rows; the shared array until a Keep
    private int[]? _directionOf;       // [merged] shared direction index of each merged row; null: the identity (no merged row evicted)
    private int _regionCount;          // rows of the merge region still held

    private MergedKvRows(MergedPairStore shared, bool isLower, KvRows retained, float[] magnitudes, KvStorageType storage)
        : base(shared.Directions.Width)
    {
        _shared = shared;
        _isLower = isLower;
        _retained = retained;
        _appended = Create(storage, Width);
        _magnitudes = magnitudes;
        _retainedRows = shared.Retained;
        _regionCount = magnitudes.Length + retained.Count;
        Count = _regionCount;
    }

    /// <summary>Rows restored from a shared direction and this layer's magnitude.</summary>
    public int MergedCount => _magnitudes.Length;

    /// <summary>Rows of the merge region kept in their original form.</summary>
    public int RetainedCount => _retained.Count;

    /// <summary>Rows appended after the merge, stored whole.</summary>
    public int AppendedCount => _appended.Count;

    /// <summary>Whether this is the lower layer of its pair.</summary>
    public bool IsLowerLayer => _isLower;

    /// <summary>
    /// Whether <see cref="ByteCount"/> includes the store shared with the partner layer: the lower layer counts it
    /// while it holds it; once the lower layer has dropped this storage, the upper layer does.
    /// </summary>
    public bool CountsSharedBytes => _isLower ? _shared.LowerAttached : !_shared.LowerAttached && _shared.UpperAttached;

    /// <summary>Bytes of the store shared with the partner layer (directions and retained indices).</summary>
    public long SharedByteCount => _shared.ByteCount;

    /// <inheritdoc/>
    public override int Capacity => _regionCount + _appended.Capacity;

    /// <summary>The element format of the directions, retained and appended rows.</summary>
    public override KvStorageType StorageType => _appended.StorageType;

    /// <summary>Bytes of one whole row (retained and appended rows); a merged row costs one f32 magnitude here.</summary>
    public override int BytesPerRow => _appended.BytesPerRow;

    /// <summary>
    /// Magnitudes (4 bytes per merged row) + retained rows + appended rows + this layer's own index maps (only after
    /// a <see cref="Keep"/> evicted rows of the merge region), plus the shared store when
    /// <see cref="CountsSharedBytes"/>.
    /// </summary>
    public override long ByteCount =>
        OwnBytes + _retained.ByteCount + _appended.ByteCount + (CountsSharedBytes ? _shared.ByteCount : 0);

    /// <inheritdoc/>
    public override long AllocatedBytes =>
        OwnBytes + _retained.AllocatedBytes + _appended.AllocatedBytes + (CountsSharedBytes ? _shared.AllocatedBytes : 0);

    private long OwnBytes =>
        (long)_magnitudes.Length * sizeof(float)
        + (long)(_directionOf?.Length ?? 0) * sizeof(int)
        + (ReferenceEquals(_retainedRows, _shared.Retained) ? 0 : (long)_retainedRows.Length * sizeof(int));

    /// <summary>
    /// Merges two layers' rows of one KV head (same tokens, same width): each row i not in
    /// <paramref name="retained"/> becomes one shared direction <see cref="Slerp.Direction"/>(lower_i, upper_i, t)
    /// and a magnitude per layer; retained rows are copied whole into both layers.
    /// </summary>
    /// <param name="lower">The lower layer's rows (û₁).</param>
    /// <param name="upper">The upper layer's rows (û₂).</param>
    /// <param name="retained">Strictly increasing row indices kept unmerged.</param>
    /// <param name="t">SLERP parameter in [0, 1].</param>
    /// <param name="storage">Element format of the new storage.</param>
    /// <exception cref="ArgumentException">The row lists differ in width or length, or a retained index is out of order or range.</exception>
    internal static (MergedKvRows Lower, MergedKvRows Upper) Merge(KvRows lower, KvRows upper, ReadOnlySpan<int> retained, double t, KvStorageType storage)
    {
        if (lower.Width != upper.Width || lower.Count != upper.Count)
            throw new ArgumentException($"merged rows must match: lower {lower.Count}×{lower.Width}, upper {upper.Count}×{upper.Width}");
        int n = lower.Count, width = lower.Width;
        int previous = -1;
        foreach (int i in retained)
        {
            if (i <= previous || i >= n)
                throw new ArgumentException($"retained indices must be strictly increasing within [0, {n}); got {i} after {previous}");
            previous = i;
        }

        var directions = Create(storage, width);
        var lowerRetained = Create(storage, width);
        var upperRetained = Create(storage, width);
        var lowerMagnitudes = new float[n - retained.Length];
        var upperMagnitudes = new float[n - retained.Length];
        var a = new float[width];
        var b = new float[width];
        var e = new float[width];
        for (int i = 0, r = 0, k = 0; i < n; i++)
        {
            lower.Read(i, a);
            upper.Read(i, b);
            if (r < retained.Length && retained[r] == i)
            {
                lowerRetained.Append(a);
                upperRetained.Append(b);
                r++;
                continue;
            }
            Slerp.Direction(a, b, t, e);
            directions.Append(e);
            lowerMagnitudes[k] = (float)Slerp.Norm(a);
            upperMagnitudes[k] = (float)Slerp.Norm(b);
            k++;
        }
        // Built once to final size: drop the growth slack so the allocation is what the data needs.
        directions.TrimExcess();
        lowerRetained.TrimExcess();
        upperRetained.TrimExcess();

        var shared = new MergedPairStore(directions, retained.ToArray());
        return (new MergedKvRows(shared, true, lowerRetained, lowerMagnitudes, storage),
                new MergedKvRows(shared, false, upperRetained, upperMagnitudes, storage));
    }

    /// <inheritdoc/>
    public override void Append(ReadOnlySpan<float> row)
    {
        _appended.Append(row);
        Count++;
    }

    /// <inheritdoc/>
    public override void Read(int index, Span<float> destination)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"row index must be in [0, {Count})");
        if (index >= _regionCount)
        {
            _appended.Read(index - _regionCount, destination);
            return;
        }
        int found = Array.BinarySearch(_retainedRows, index);
        if (found >= 0)
        {
            _retained.Read(found, destination);
            return;
        }
        int k = index - ~found;
        var row = destination[..Width];
        _shared.Directions.Read(DirectionOf(k), row);
        TensorPrimitives.Multiply(row, _magnitudes[k], row);
    }

    /// <summary>
    /// Decodes a block segment by segment: appended and retained runs through their own storage, merged runs as their
    /// directions (one call per run of consecutive directions) each scaled by its row's magnitude, as <see cref="Read"/> does.
    /// </summary>
    public override void ReadRows(int start, int count, Span<float> destination)
    {
        CheckRange(start, count);
        int end = start + count;
        int rank = RetainedBefore(start);
        for (int row = start; row < end;)
        {
            var kind = NextSegment(row, end, ref rank, out int source, out int slot, out int length);
            var part = destination.Slice((row - start) * Width, length * Width);
            switch (kind)
            {
                case Segment.Appended:
                    _appended.ReadRows(source, length, part);
                    break;
                case Segment.Retained:
                    _retained.ReadRows(source, length, part);
                    break;
                default:
                    _shared.Directions.ReadRows(source, length, part);
                    for (int i = 0; i < length; i++)
                    {
                        var r = part.Slice(i * Width, Width);
                        TensorPrimitives.Multiply(r, _magnitudes[slot + i], r);
                    }
                    break;
            }
            row += length;
        }
    }

    /// <inheritdoc/>
    public override void DotRows(ReadOnlySpan<float> query, int start, Span<float> results)
    {
        CheckRange(start, results.Length);
        int end = start + results.Length;
        int rank = RetainedBefore(start);
        for (int row = start; row < end;)
        {
            var kind = NextSegment(row, end, ref rank, out int source, out int slot, out int length);
            var part = results.Slice(row - start, length);
            switch (kind)
            {
                case Segment.Appended:
                    _appended.DotRows(query, source, part);
                    break;
                case Segment.Retained:
                    _retained.DotRows(query, source, part);
                    break;
                default:
                    // q·(e·‖x‖) = (q·e)·‖x‖: the direction store's own kernel, then one scale per row.
                    _shared.Directions.DotRows(query, source, part);
                    TensorPrimitives.Multiply(part, _magnitudes.AsSpan(slot, length), part);
                    break;
            }
            row += length;
        }
    }

    /// <inheritdoc/>
    public override void AccumulateRows(ReadOnlySpan<float> weights, int start, Span<float> accumulator)
    {
        CheckRange(start, weights.Length);
        Span<float> scaled = stackalloc float[WeightChunk];
        int end = start + weights.Length;
        int rank = RetainedBefore(start);
        for (int row = start; row < end;)
        {
            var kind = NextSegment(row, end, ref rank, out int source, out int slot, out int length);
            var part = weights.Slice(row - start, length);
            switch (kind)
            {
                case Segment.Appended:
                    _appended.AccumulateRows(part, source, accumulator);
                    break;
                case Segment.Retained:
                    _retained.AccumulateRows(part, source, accumulator);
                    break;
                default:
                    // Σ w·(e·‖x‖) = Σ (w·‖x‖)·e: fold the magnitudes into the weights, chunk by chunk.
                    for (int c = 0; c < length; c += WeightChunk)
                    {
                        int m = Math.Min(WeightChunk, length - c);
                        TensorPrimitives.Multiply(part.Slice(c, m), _magnitudes.AsSpan(slot + c, m), scaled[..m]);
                        _shared.Directions.AccumulateRows(scaled[..m], source + c, accumulator);
                    }
                    break;
            }
            row += length;
        }
    }

    /// <inheritdoc/>
    public override void Keep(ReadOnlySpan<int> ascendingIndices)
    {
        ValidateKeep(ascendingIndices);
        int split = 0;
        while (split < ascendingIndices.Length && ascendingIndices[split] < _regionCount) split++;

        // The region is untouched when all of its rows survive (indices strictly increasing: then region[j] == j).
        if (split != _regionCount) KeepRegion(ascendingIndices[..split]);

        var tail = new int[ascendingIndices.Length - split];
        for (int j = 0; j < tail.Length; j++) tail[j] = ascendingIndices[split + j] - _regionCount;
        _appended.Keep(tail);
        _regionCount = split;
        Count = ascendingIndices.Length;
    }

    /// <inheritdoc/>
    internal override void Detach()
    {
        if (_isLower) _shared.LowerAttached = false;
        else _shared.UpperAttached = false;
    }

    private void KeepRegion(ReadOnlySpan<int> region)
    {
        var retainedRows = new List<int>();
        var retainedSlots = new List<int>();
        var magnitudes = new List<float>();
        var directions = new List<int>();
        int rank = 0;
        for (int j = 0; j < region.Length; j++)
        {
            int row = region[j];
            while (rank < _retainedRows.Length && _retainedRows[rank] < row) rank++;
            if (rank < _retainedRows.Length && _retainedRows[rank] == row)
            {
                retainedRows.Add(j);
                retainedSlots.Add(rank);
            }
            else
            {
                int k = row - rank;
                magnitudes.Add(_magnitudes[k]);
                directions.Add(DirectionOf(k));
            }
        }
        _retained.Keep(retainedSlots.ToArray());
        _retainedRows = retainedRows.ToArray();
        _magnitudes = magnitudes.ToArray();
        bool identity = true;
        for (int k = 0; k < directions.Count && identity; k++) identity = directions[k] == k;
        _directionOf = identity ? null : directions.ToArray();
    }

    private int DirectionOf(int mergedSlot) => _directionOf is null ? mergedSlot : _directionOf[mergedSlot];

    /// <summary>Retained rows before region row <paramref name="row"/>.</summary>
    private int RetainedBefore(int row)
    {
        int found = Array.BinarySearch(_retainedRows, row);
        return found >= 0 ? found : ~found;
    }

    private void CheckRange(int start, int length)
    {
        if (start < 0 || length < 0 || start > Count - length)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"rows [{start}, {start + length}) are not within [0, {Count})");
    }

    private enum Segment { Merged, Retained, Appended }

    /// <summary>
    /// The longest run from <paramref name="row"/> (before <paramref name="end"/>) that one store serves with
    /// consecutive indices starting at <paramref name="source"/>; <paramref name="slot"/> is the first merged row's
    /// magnitude index. <paramref name="rank"/> (retained rows before <paramref name="row"/>) moves past the run.
    /// </summary>
    private Segment NextSegment(int row, int end, ref int rank, out int source, out int slot, out int length)
    {
        slot = 0;
        if (row >= _regionCount)
        {
            source = row - _regionCount;
            length = end - row;
            return Segment.Appended;
        }
        if (rank < _retainedRows.Length && _retainedRows[rank] == row)
        {
            length = 1;
            while (row + length < end && rank + length < _retainedRows.Length && _retainedRows[rank + length] == row + length) length++;
            source = rank;
            rank += length;
            return Segment.Retained;
        }
        slot = row - rank;
        int stop = Math.Min(end, rank < _retainedRows.Length ? _retainedRows[rank] : _regionCount);
        length = stop - row;
        source = DirectionOf(slot);
        if (_directionOf is not null)
        {
            int run = 1;
            while (run < length && _directionOf[slot + run] == source + run) run++;
            length = run;
        }
        return Segment.Merged;
    }
}
