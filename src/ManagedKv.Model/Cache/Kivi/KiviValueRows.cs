using System.Numerics.Tensors;
using System.Buffers;
namespace ManagedKv.Model.Cache.Kivi;

/// <summary>
/// KIVI values: quantised per token. Each token's channels are split into groups of <see cref="KiviFormat.Group"/>
/// consecutive channels (one group when the head is narrower), each with its own f16 min and scale. The
/// full-precision tail holds the last R tokens; once it exceeds R the oldest token is quantised (tokens are
/// independent, so values stream one at a time, as in the reference code). Eviction drops a token's codes and
/// parameters and never re-quantises.
/// Bytes: per quantised token ⌈width·bits/8⌉ code bytes + 4 per channel group (f16 min and scale) + the tail's
/// dense rows.
/// </summary>
public sealed class KiviValueRows : KiviRows
{
    private Half[] _mins = [];   // [row capacity, ChannelGroups]
    private Half[] _scales = []; // [row capacity, ChannelGroups]

    /// <summary>Creates empty value rows.</summary>
    public KiviValueRows(int width, KiviFormat format, KvStorageType tailType = KvStorageType.F32) : base(width, format, tailType) =>
        ChannelGroups = (width + format.Group - 1) / format.Group;

    /// <summary>Quantises every row of <paramref name="source"/> as if appended one by one (the result equals the
    /// reference's prefill: all but the last R tokens quantised).</summary>
    public static KiviValueRows From(KvRows source, KiviFormat format)
    {
        var rows = new KiviValueRows(source.Width, format, source is KiviRows k ? k.TailType : source.StorageType);
        rows.AppendAll(source);
        return rows;
    }

    /// <summary>Channel groups per token: ⌈width / group⌉.</summary>
    public int ChannelGroups { get; }

    /// <summary>Mins per token and channel group, [QuantizedCount, ChannelGroups].</summary>
    public ReadOnlySpan<Half> Mins => _mins.AsSpan(0, QuantizedCount * ChannelGroups);

    /// <summary>Scales per token and channel group, [QuantizedCount, ChannelGroups].</summary>
    public ReadOnlySpan<Half> Scales => _scales.AsSpan(0, QuantizedCount * ChannelGroups);

    /// <inheritdoc/>
    protected override long ParameterByteCount => (long)QuantizedCount * ChannelGroups * 2 * sizeof(short);

    /// <inheritdoc/>
    protected override long ParameterAllocatedBytes => ((long)_mins.Length + _scales.Length) * sizeof(short);

    /// <inheritdoc/>
    protected override int RowsDue(int tailCount) => Math.Max(0, tailCount - Format.Residual);

    /// <inheritdoc/>
    protected override void QuantizeRows(ReadOnlySpan<float> rows, int count, Span<byte> codes)
    {
        int width = Width, bits = Format.Bits, maxCode = Format.MaxCode, groups = ChannelGroups;
        int needed = (QuantizedCount + count) * groups;
        if (_mins.Length < needed)
        {
            int capacity = GrowTo(_mins.Length / groups, QuantizedCount + count) * groups;
            Array.Resize(ref _mins, capacity);
            Array.Resize(ref _scales, capacity);
        }
        float[] work = ArrayPool<float>.Shared.Rent(2 * Format.Group);
        Span<float> mins = work.AsSpan(0, Format.Group), scales = work.AsSpan(Format.Group, Format.Group);
        for (int t = 0; t < count; t++)
        {
            var row = rows.Slice(t * width, width);
            var code = codes.Slice(t * RowBytes, RowBytes);
            for (int cg = 0; cg < groups; cg++)
            {
                int first = cg * Format.Group, end = Math.Min(width, first + Format.Group);
                var group = row[first..end];
                // TensorPrimitives.Min/Max: the same IEEE minimum/maximum as MathF.Min/Max (exact, any order)
                var (min, scale) = AsymmetricQuantizer.Fit(TensorPrimitives.Min(group), TensorPrimitives.Max(group), maxCode);
                int p = (QuantizedCount + t) * groups + cg;
                _mins[p] = min;
                _scales[p] = scale;
                mins[..group.Length].Fill((float)min);
                scales[..group.Length].Fill((float)scale);
                AsymmetricQuantizer.QuantizeRow(group, mins[..group.Length], scales[..group.Length], bits, maxCode, code, first);
            }
        }
        ArrayPool<float>.Shared.Return(work);
    }

    /// <inheritdoc/>
    protected override void ReadQuantizedRows(int start, int count, Span<float> destination)
    {
        int bits = Format.Bits, groups = ChannelGroups;
        for (int i = 0; i < count; i++)
        {
            int row = start + i;
            var code = CodeRow(row);
            var output = destination.Slice(i * Width, Width);
            for (int cg = 0; cg < groups; cg++)
            {
                int p = row * groups + cg, first = cg * Format.Group, size = Math.Min(Width, first + Format.Group) - first;
                AsymmetricQuantizer.Dequantize(code, bits, first, (float)_mins[p], (float)_scales[p], output.Slice(first, size));
            }
        }
    }

    /// <summary>
    /// q·v̂_t = Σ_groups (min_g·Σ_{c∈g} q_c + scale_g·Σ_{c∈g} q_c·code_tc): the per-group query sums are computed once
    /// per call.
    /// </summary>
    protected override void DotQuantized(ReadOnlySpan<float> query, int start, Span<float> results)
    {
        int bits = Format.Bits, groups = ChannelGroups;
        Span<float> querySums = groups <= 1024 ? stackalloc float[groups] : new float[groups];
        for (int cg = 0; cg < groups; cg++)
        {
            float sum = 0;
            for (int c = cg * Format.Group, end = Math.Min(Width, c + Format.Group); c < end; c++) sum += query[c];
            querySums[cg] = sum;
        }
        for (int i = 0; i < results.Length; i++)
        {
            int row = start + i;
            var code = CodeRow(row);
            float dot = 0;
            for (int cg = 0; cg < groups; cg++)
            {
                int p = row * groups + cg, first = cg * Format.Group, end = Math.Min(Width, first + Format.Group);
                float coded = 0;
                for (int c = first; c < end; c++) coded += query[c] * AsymmetricQuantizer.Get(code, c, bits);
                dot += (float)_mins[p] * querySums[cg] + (float)_scales[p] * coded;
            }
            results[i] = dot;
        }
    }

    /// <summary>accumulator_c += w_t·min_g + (w_t·scale_g)·code_tc: two products per (token, group), one per element.</summary>
    protected override void AccumulateQuantized(ReadOnlySpan<float> weights, int start, Span<float> accumulator)
    {
        int bits = Format.Bits, groups = ChannelGroups;
        for (int i = 0; i < weights.Length; i++)
        {
            int row = start + i;
            var code = CodeRow(row);
            float w = weights[i];
            for (int cg = 0; cg < groups; cg++)
            {
                int p = row * groups + cg, first = cg * Format.Group, end = Math.Min(Width, first + Format.Group);
                float offset = w * (float)_mins[p], step = w * (float)_scales[p];
                for (int c = first; c < end; c++) accumulator[c] += offset + step * AsymmetricQuantizer.Get(code, c, bits);
            }
        }
    }

    /// <inheritdoc/>
    protected override void KeepQuantizedParameters(ReadOnlySpan<int> ascendingIndices)
    {
        int groups = ChannelGroups;
        for (int j = 0; j < ascendingIndices.Length; j++)
            if (ascendingIndices[j] != j)
            {
                _mins.AsSpan(ascendingIndices[j] * groups, groups).CopyTo(_mins.AsSpan(j * groups));
                _scales.AsSpan(ascendingIndices[j] * groups, groups).CopyTo(_scales.AsSpan(j * groups));
            }
        if (ShouldShrink(_mins.Length / groups, ascendingIndices.Length))
        {
            Array.Resize(ref _mins, ascendingIndices.Length * groups);
            Array.Resize(ref _scales, ascendingIndices.Length * groups);
        }
    }

    /// <inheritdoc/>
    protected override ulong HashParameters(ulong hash) => HashHalves(HashHalves(hash, Mins), Scales);
}
