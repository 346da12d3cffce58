using System.Buffers;

namespace ManagedKv.Model.Cache.Kivi;

/// <summary>
/// KIVI storage of one side (keys or values) of one KV head: rows [0, <see cref="QuantizedCount"/>) are bit-packed
/// codes with f16 mins and scales (<see cref="AsymmetricQuantizer"/>); rows [<see cref="QuantizedCount"/>,
/// <see cref="KvRows.Count"/>) are a full-precision tail in the head's original dense type. New rows go to the
/// tail; the subclass's rule says when tail rows are quantised (keys: all R at once when the tail reaches R;
/// values: the oldest once the tail exceeds R), which happens as the row is appended, so decoding needs no plan.
/// A quantised row's f32 bytes are gone once it is quantised: only its packed codes and its share of the
/// group's min/scale remain.
/// </summary>
public abstract class KiviRows : KvRows
{
    private KvRows _tail;      // [Count − QuantizedCount, Width] full-precision recent rows
    private byte[] _codes = []; // [code capacity, RowBytes] packed codes of the quantised rows, token-major

    /// <summary>Creates empty rows.</summary>
    /// <param name="width">Elements per row.</param>
    /// <param name="format">Bits, group and residual length.</param>
    /// <param name="tailType">Dense type of the full-precision tail (the cache's type: F32 or F16).</param>
    protected KiviRows(int width, KiviFormat format, KvStorageType tailType) : base(width)
    {
        ArgumentNullException.ThrowIfNull(format);
        format.Validate();
        if (tailType is not (KvStorageType.F32 or KvStorageType.F16))
            throw new ArgumentException($"the full-precision tail must be F32 or F16, got {tailType}", nameof(tailType));
        Format = format;
        TailType = tailType;
        RowBytes = format.RowBytes(width);
        _tail = Create(tailType, width);
    }

    /// <summary>Bits, group and residual length.</summary>
    public KiviFormat Format { get; }

    /// <summary>Dense type of the full-precision tail.</summary>
    public KvStorageType TailType { get; }

    /// <summary>Rows held as packed codes (a prefix of the rows).</summary>
    public int QuantizedCount { get; private set; }

    /// <summary>Rows held in full precision (the most recent ones).</summary>
    public int TailCount => Count - QuantizedCount;

    /// <summary>Bytes of one row's packed codes.</summary>
    public int RowBytes { get; }

    /// <summary>Packed codes of the quantised rows, [QuantizedCount, RowBytes] token-major, low bits first.</summary>
    public ReadOnlySpan<byte> Codes => _codes.AsSpan(0, QuantizedCount * RowBytes);

    /// <inheritdoc/>
    public override KvStorageType StorageType => KvStorageType.Kivi;

    /// <summary>Bytes of one row in the full-precision tail (rows differ in size here; <see cref="ByteCount"/> is exact).</summary>
    public override int BytesPerRow => _tail.BytesPerRow;

    /// <summary>Rows the code buffer and the tail buffer can hold before growing.</summary>
    public override int Capacity => _codes.Length / RowBytes + _tail.Capacity;

    /// <summary>Packed codes + f16 mins and scales + the full-precision tail.</summary>
    public override long ByteCount => (long)QuantizedCount * RowBytes + ParameterByteCount + _tail.ByteCount;

    /// <inheritdoc/>
    public override long AllocatedBytes => _codes.Length + ParameterAllocatedBytes + _tail.AllocatedBytes;

    /// <summary>Bytes of the held mins and scales.</summary>
    protected abstract long ParameterByteCount { get; }

    /// <summary>Bytes of the min and scale buffers, spare capacity included.</summary>
    protected abstract long ParameterAllocatedBytes { get; }

    /// <summary>Packed codes of quantised row <paramref name="index"/>.</summary>
    protected ReadOnlySpan<byte> CodeRow(int index) => _codes.AsSpan(index * RowBytes, RowBytes);

    /// <summary>Copies every row of <paramref name="source"/> in (conversion of a dense head, or re-quantisation).</summary>
    protected void AppendAll(KvRows source)
    {
        Span<float> row = Width <= 1024 ? stackalloc float[Width] : new float[Width];
        for (int i = 0; i < source.Count; i++)
        {
            source.Read(i, row);
            Append(row);
        }
    }

    /// <inheritdoc/>
    public override void Append(ReadOnlySpan<float> row)
    {
        _tail.Append(row);
        Count++;
        QuantizeDueRows();
    }

    /// <inheritdoc/>
    public override void Read(int index, Span<float> destination)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"row index must be in [0, {Count})");
        if (index < QuantizedCount) ReadQuantizedRows(index, 1, destination[..Width]);
        else _tail.Read(index - QuantizedCount, destination);
    }

    /// <inheritdoc/>
    public override void ReadRows(int start, int count, Span<float> destination)
    {
        CheckRange(start, count);
        int quantized = Math.Clamp(QuantizedCount - start, 0, count);
        if (quantized > 0) ReadQuantizedRows(start, quantized, destination[..(quantized * Width)]);
        if (quantized < count)
            _tail.ReadRows(start + quantized - QuantizedCount, count - quantized, destination.Slice(quantized * Width, (count - quantized) * Width));
    }

    /// <inheritdoc/>
    public override void DotRows(ReadOnlySpan<float> query, int start, Span<float> results)
    {
        CheckRange(start, results.Length);
        int quantized = Math.Clamp(QuantizedCount - start, 0, results.Length);
        if (quantized > 0) DotQuantized(query[..Width], start, results[..quantized]);
        if (quantized < results.Length) _tail.DotRows(query, start + quantized - QuantizedCount, results[quantized..]);
    }

    /// <inheritdoc/>
    public override void AccumulateRows(ReadOnlySpan<float> weights, int start, Span<float> accumulator)
    {
        CheckRange(start, weights.Length);
        int quantized = Math.Clamp(QuantizedCount - start, 0, weights.Length);
        if (quantized > 0) AccumulateQuantized(weights[..quantized], start, accumulator[..Width]);
        if (quantized < weights.Length) _tail.AccumulateRows(weights[quantized..], start + quantized - QuantizedCount, accumulator);
    }

    /// <summary>
    /// Keeps the given rows. Quantised rows keep their codes and their group's min and scale unchanged (a kept
    /// element still lies in its group's range, so eviction adds no error); tail rows stay in full precision.
    /// </summary>
    public override void Keep(ReadOnlySpan<int> ascendingIndices)
    {
        ValidateKeep(ascendingIndices);
        int quantizedKept = 0;
        while (quantizedKept < ascendingIndices.Length && ascendingIndices[quantizedKept] < QuantizedCount) quantizedKept++;

        var quantized = ascendingIndices[..quantizedKept];
        KeepQuantizedParameters(quantized);
        for (int j = 0; j < quantized.Length; j++)
            if (quantized[j] != j) _codes.AsSpan(quantized[j] * RowBytes, RowBytes).CopyTo(_codes.AsSpan(j * RowBytes));
        if (ShouldShrink(_codes.Length / RowBytes, quantizedKept)) Array.Resize(ref _codes, quantizedKept * RowBytes);

        int tailKept = ascendingIndices.Length - quantizedKept;
        int[] shifted = ArrayPool<int>.Shared.Rent(Math.Max(1, tailKept));
        for (int j = 0; j < tailKept; j++) shifted[j] = ascendingIndices[quantizedKept + j] - QuantizedCount;
        _tail.Keep(shifted.AsSpan(0, tailKept));
        ArrayPool<int>.Shared.Return(shifted);

        QuantizedCount = quantizedKept;
        Count = ascendingIndices.Length;
        QuantizeDueRows();
    }

    /// <inheritdoc/>
    public override string Fingerprint
    {
        get
        {
            ulong hash = AsymmetricQuantizer.Hash(AsymmetricQuantizer.HashSeed, Codes);
            hash = HashParameters(hash);
            return $"kivi {Format.Bits}-bit group {Format.Group}: {QuantizedCount} quantised{Layout} + {TailCount} full precision, codes+scales fnv1a64 {hash:x16}";
        }
    }

    /// <summary>Extra layout text for <see cref="Fingerprint"/> (e.g. the key groups).</summary>
    protected virtual string Layout => "";

    /// <summary>How many of the oldest tail rows are due for quantisation when the tail holds <paramref name="tailCount"/>.</summary>
    protected abstract int RowsDue(int tailCount);

    /// <summary>
    /// Quantises <paramref name="count"/> rows ([count, Width] in <paramref name="rows"/>) that become quantised rows
    /// [QuantizedCount, QuantizedCount + count): writes their packed codes into <paramref name="codes"/>
    /// ([count, RowBytes], zeroed) and records their mins and scales.
    /// </summary>
    protected abstract void QuantizeRows(ReadOnlySpan<float> rows, int count, Span<byte> codes);

    /// <summary>
    /// Dequantises quantised rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) into
    /// <paramref name="destination"/> ([count, Width]): every element is min + scale·code in f32 (a product, then a
    /// sum, never fused), so each row is the same whichever way it is read.
    /// </summary>
    protected abstract void ReadQuantizedRows(int start, int count, Span<float> destination);

    /// <summary><see cref="KvRows.DotRows"/> over quantised rows only, on the packed codes.</summary>
    protected abstract void DotQuantized(ReadOnlySpan<float> query, int start, Span<float> results);

    /// <summary><see cref="KvRows.AccumulateRows"/> over quantised rows only, on the packed codes.</summary>
    protected abstract void AccumulateQuantized(ReadOnlySpan<float> weights, int start, Span<float> accumulator);

    /// <summary>Drops the mins and scales of evicted quantised rows (called before the codes are compacted).</summary>
    protected abstract void KeepQuantizedParameters(ReadOnlySpan<int> ascendingIndices);

    /// <summary>Folds the mins and scales (and any layout) into the fingerprint hash.</summary>
    protected abstract ulong HashParameters(ulong hash);

    /// <summary>Folds f16 values into a hash by their bits.</summary>
    protected static ulong HashHalves(ulong hash, ReadOnlySpan<Half> values) =>
        AsymmetricQuantizer.Hash(hash, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));

    private void QuantizeDueRows()
    {
        int due = RowsDue(_tail.Count);
        if (due <= 0) return;
        int needed = (QuantizedCount + due) * RowBytes;
        if (_codes.Length < needed) Array.Resize(ref _codes, GrowTo(_codes.Length / RowBytes, QuantizedCount + due) * RowBytes);

        float[] rows = ArrayPool<float>.Shared.Rent(due * Width);
        for (int i = 0; i < due; i++) _tail.Read(i, rows.AsSpan(i * Width, Width));
        var codes = _codes.AsSpan(QuantizedCount * RowBytes, due * RowBytes);
        codes.Clear();
        QuantizeRows(rows.AsSpan(0, due * Width), due, codes);
        ArrayPool<float>.Shared.Return(rows);

        _tail.RemoveOldest(due);
        QuantizedCount += due;
    }

    private void CheckRange(int start, int length)
    {
        if (start < 0 || length < 0 || start > Count - length)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"rows [{start}, {start + length}) are not within [0, {Count})");
    }
}
