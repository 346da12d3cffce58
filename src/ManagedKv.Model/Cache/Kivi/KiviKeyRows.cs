using System.Buffers;
using System.Numerics.Tensors;

namespace ManagedKv.Model.Cache.Kivi;

/// <summary>
/// KIVI keys: quantised per channel. A group is up to <see cref="KiviFormat.Group"/> consecutive tokens; each channel
/// of a group has its own f16 min and scale (key outliers live in fixed channels, so a channel's range is narrow
/// along tokens). The full-precision tail holds the last n mod R tokens: when it reaches R it is quantised at
/// once, as R / Group groups (the reference code's rule, so right after that step no key is in full precision).
/// Eviction (<see cref="KvRows.Keep"/>) removes tokens from their groups without re-quantising, so groups may then
/// hold fewer than <see cref="KiviFormat.Group"/> tokens.
/// Bytes: codes ⌈width·bits/8⌉ per quantised token + per group 4·width (f16 min and scale per channel) and 4 (its
/// first row, since eviction makes group sizes vary) + the tail's dense rows.
/// </summary>
public sealed class KiviKeyRows : KiviRows
{
    private Half[] _mins = [];      // [group capacity, Width]
    private Half[] _scales = [];    // [group capacity, Width]
    private int[] _groupStarts = []; // [group capacity] first quantised row of each group, increasing

    /// <summary>Creates empty key rows.</summary>
    public KiviKeyRows(int width, KiviFormat format, KvStorageType tailType = KvStorageType.F32) : base(width, format, tailType) { }

    /// <summary>Quantises every row of <paramref name="source"/> as if appended one by one (the result equals the
    /// reference's prefill: the first ⌊n/R⌋·R tokens quantised, the rest in full precision).</summary>
    public static KiviKeyRows From(KvRows source, KiviFormat format)
    {
        var rows = new KiviKeyRows(source.Width, format, source is KiviRows k ? k.TailType : source.StorageType);
        rows.AppendAll(source);
        return rows;
    }

    /// <summary>Groups of quantised tokens.</summary>
    public int GroupCount { get; private set; }

    /// <summary>First quantised row of each group, [GroupCount]; group g ends where g + 1 starts (the last at QuantizedCount).</summary>
    public ReadOnlySpan<int> GroupStarts => _groupStarts.AsSpan(0, GroupCount);

    /// <summary>Per-channel mins, [GroupCount, Width].</summary>
    public ReadOnlySpan<Half> Mins => _mins.AsSpan(0, GroupCount * Width);

    /// <summary>Per-channel scales, [GroupCount, Width].</summary>
    public ReadOnlySpan<Half> Scales => _scales.AsSpan(0, GroupCount * Width);

    /// <inheritdoc/>
    protected override long ParameterByteCount => (long)GroupCount * Width * 2 * sizeof(short) + (long)GroupCount * sizeof(int);

    /// <inheritdoc/>
    protected override long ParameterAllocatedBytes => ((long)_mins.Length + _scales.Length) * sizeof(short) + (long)_groupStarts.Length * sizeof(int);

    /// <inheritdoc/>
    protected override string Layout => $" in {GroupCount} groups";

    /// <inheritdoc/>
    protected override int RowsDue(int tailCount) => tailCount >= Format.Residual ? tailCount : 0;

    /// <inheritdoc/>
    protected override void QuantizeRows(ReadOnlySpan<float> rows, int count, Span<byte> codes)
    {
        int width = Width, bits = Format.Bits, maxCode = Format.MaxCode;
        float[] work = ArrayPool<float>.Shared.Rent(4 * width);
        Span<float> lo = work.AsSpan(0, width), hi = work.AsSpan(width, width);
        Span<float> mins = work.AsSpan(2 * width, width), scales = work.AsSpan(3 * width, width);
        for (int first = 0; first < count; first += Format.Group)
        {
            int size = Math.Min(Format.Group, count - first);
            int g = AddGroup(QuantizedCount + first);
            // per-channel range over the group's tokens, all channels at once (min and max are exact, any order)
            lo.Fill(float.PositiveInfinity);
            hi.Fill(float.NegativeInfinity);
            for (int t = first; t < first + size; t++)
            {
                var row = rows.Slice(t * width, width);
                TensorPrimitives.Min(lo, row, lo);
                TensorPrimitives.Max(hi, row, hi);
            }
            for (int c = 0; c < width; c++)
            {
                var (min, scale) = AsymmetricQuantizer.Fit(lo[c], hi[c], maxCode);
                _mins[g * width + c] = min;
                _scales[g * width + c] = scale;
                mins[c] = (float)min;
                scales[c] = (float)scale;
            }
            for (int t = first; t < first + size; t++)
                AsymmetricQuantizer.QuantizeRow(rows.Slice(t * width, width), mins, scales, bits, maxCode, codes.Slice(t * RowBytes, RowBytes), 0);
        }
        ArrayPool<float>.Shared.Return(work);
    }

    /// <inheritdoc/>
    protected override void ReadQuantizedRows(int start, int count, Span<float> destination)
    {
        int width = Width, bits = Format.Bits;
        Span<float> parameters = width <= 512 ? stackalloc float[2 * width] : new float[2 * width];
        Span<float> mins = parameters[..width], scales = parameters[width..];
        int end = start + count;
        for (int g = GroupOf(start), i = start; i < end; g++)
        {
            int groupEnd = Math.Min(GroupEnd(g), end);
            TensorPrimitives.ConvertToSingle(_mins.AsSpan(g * width, width), mins);
            TensorPrimitives.ConvertToSingle(_scales.AsSpan(g * width, width), scales);
            for (; i < groupEnd; i++)
                AsymmetricQuantizer.Dequantize(CodeRow(i), bits, mins, scales, destination.Slice((i - start) * width, width));
        }
    }

    /// <summary>
    /// q·k̂_t = Σ_c q_c (min_c + scale_c·code_tc) = Σ_c q_c·min_c + Σ_c (q_c·scale_c)·code_tc: per group the first
    /// sum and the products q_c·scale_c are computed once, then each token costs one pass over its codes.
    /// </summary>
    protected override void DotQuantized(ReadOnlySpan<float> query, int start, Span<float> results)
    {
        int width = Width, bits = Format.Bits;
        Span<float> weighted = width <= 1024 ? stackalloc float[width] : new float[width]; // q_c · scale_c
        int end = start + results.Length;
        for (int g = GroupOf(start), i = start; i < end; g++)
        {
            int groupEnd = Math.Min(GroupEnd(g), end);
            var mins = _mins.AsSpan(g * width, width);
            var scales = _scales.AsSpan(g * width, width);
            float offset = 0;
            for (int c = 0; c < width; c++)
            {
                offset += query[c] * (float)mins[c];
                weighted[c] = query[c] * (float)scales[c];
            }
            for (; i < groupEnd; i++)
            {
                var code = CodeRow(i);
                float dot = offset;
                for (int c = 0; c < width; c++) dot += weighted[c] * AsymmetricQuantizer.Get(code, c, bits);
                results[i - start] = dot;
            }
        }
    }

    /// <summary>
    /// Σ_t w_t k̂_tc = min_c·Σ_t w_t + scale_c·Σ_t w_t·code_tc per group: the weighted code sums are accumulated on
    /// the codes, then scaled once per channel.
    /// </summary>
    protected override void AccumulateQuantized(ReadOnlySpan<float> weights, int start, Span<float> accumulator)
    {
        int width = Width, bits = Format.Bits;
        Span<float> codeSums = width <= 1024 ? stackalloc float[width] : new float[width];
        int end = start + weights.Length;
        for (int g = GroupOf(start), i = start; i < end; g++)
        {
            int groupEnd = Math.Min(GroupEnd(g), end);
            codeSums.Clear();
            float weightSum = 0;
            for (; i < groupEnd; i++)
            {
                float w = weights[i - start];
                var code = CodeRow(i);
                weightSum += w;
                for (int c = 0; c < width; c++) codeSums[c] += w * AsymmetricQuantizer.Get(code, c, bits);
            }
            var mins = _mins.AsSpan(g * width, width);
            var scales = _scales.AsSpan(g * width, width);
            for (int c = 0; c < width; c++) accumulator[c] += (float)mins[c] * weightSum + (float)scales[c] * codeSums[c];
        }
    }

    /// <inheritdoc/>
    protected override void KeepQuantizedParameters(ReadOnlySpan<int> ascendingIndices)
    {
        int kept = 0, groups = 0, j = 0;
        for (int g = 0; g < GroupCount; g++)
        {
            int end = GroupEnd(g), first = kept;
            while (j < ascendingIndices.Length && ascendingIndices[j] < end) { j++; kept++; }
            if (kept == first) continue; // every token of the group was evicted: its min and scale go too
            _groupStarts[groups] = first;
            if (groups != g)
            {
                _mins.AsSpan(g * Width, Width).CopyTo(_mins.AsSpan(groups * Width));
                _scales.AsSpan(g * Width, Width).CopyTo(_scales.AsSpan(groups * Width));
            }
            groups++;
        }
        GroupCount = groups;
        if (ShouldShrink(_groupStarts.Length, groups)) ResizeGroups(groups);
    }

    /// <inheritdoc/>
    protected override ulong HashParameters(ulong hash)
    {
        hash = HashHalves(hash, Mins);
        hash = HashHalves(hash, Scales);
        return AsymmetricQuantizer.Hash(hash, System.Runtime.InteropServices.MemoryMarshal.AsBytes(GroupStarts));
    }

    private int AddGroup(int firstRow)
    {
        if (GroupCount == _groupStarts.Length) ResizeGroups(GrowTo(GroupCount, GroupCount + 1));
        _groupStarts[GroupCount] = firstRow;
        return GroupCount++;
    }

    private void ResizeGroups(int capacity)
    {
        Array.Resize(ref _groupStarts, capacity);
        Array.Resize(ref _mins, capacity * Width);
        Array.Resize(ref _scales, capacity * Width);
    }

    private int GroupEnd(int g) => g + 1 < GroupCount ? _groupStarts[g + 1] : QuantizedCount;

    private int GroupOf(int row)
    {
        int g = GroupStarts.BinarySearch(row);
        return g >= 0 ? g : ~g - 1;
    }
}
