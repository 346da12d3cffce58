namespace ManagedKv.Gguf.Tests.Format;

/// <summary>
/// A small GGUF written by <see cref="GgufWriter"/> holding every metadata value type (scalars at their
/// extremes, NaN payloads, empty and non-ASCII strings, empty arrays, bool arrays, arrays of arrays up to the
/// nesting limit, unicode and empty keys) and tensors of several types with sizes that need padding.
/// </summary>
internal static class SampleGguf
{
    /// <summary>Tensors: name, type, dims. Q4_K rows are a multiple of 256 as ggml requires.</summary>
    public static readonly (string Name, GgmlType Type, long[] Dims)[] TensorSpecs =
    [
        ("f32.odd", GgmlType.F32, [7, 3]),
        ("f16.matrix", GgmlType.F16, [16, 2]),
        ("q8_0.weight", GgmlType.Q8_0, [64, 3]),
        ("q4_k.weight", GgmlType.Q4_K, [256, 2]),
        ("i8.vector", GgmlType.I8, [5]),
        ("scalar.f32", GgmlType.F32, []),
        ("bf16.cube", GgmlType.BF16, [2, 3, 2, 1]),
    ];

    public static GgufValue Arr(GgufValueType type, params GgufValue[] values) => GgufValue.FromArray(GgufArray.Of(type, values));

    /// <summary>Nested arrays <paramref name="levels"/> deep around one int32 array.</summary>
    public static GgufValue Nested(int levels)
    {
        var v = Arr(GgufValueType.Int32, GgufValue.From(1), GgufValue.From(2));
        for (int i = 1; i < levels; i++) v = Arr(GgufValueType.Array, v);
        return v;
    }

    public static IEnumerable<(string Key, GgufValue Value)> Metadata()
    {
        yield return ("general.architecture", GgufValue.From("llama"));
        yield return ("u8.max", GgufValue.From((byte)255));
        yield return ("u8.zero", GgufValue.From((byte)0));
        yield return ("i8.min", GgufValue.From((sbyte)-128));
        yield return ("u16.max", GgufValue.From(ushort.MaxValue));
        yield return ("i16.min", GgufValue.From(short.MinValue));
        yield return ("u32.max", GgufValue.From(uint.MaxValue));
        yield return ("i32.min", GgufValue.From(int.MinValue));
        yield return ("f32.pi", GgufValue.From(MathF.PI));
        yield return ("f32.negzero", GgufValue.From(-0.0f));
        yield return ("f32.nan_payload", GgufValue.FromBits(GgufValueType.Float32, 0x7FC01234));
        yield return ("f32.inf", GgufValue.From(float.NegativeInfinity));
        yield return ("bool.true", GgufValue.From(true));
        yield return ("bool.false", GgufValue.From(false));
        yield return ("string.empty", GgufValue.From(""));
        yield return ("string.unicode", GgufValue.From("héllo € 😀 \u0000 end"));
        yield return ("u64.max", GgufValue.From(ulong.MaxValue));
        yield return ("i64.min", GgufValue.From(long.MinValue));
        yield return ("f64.e", GgufValue.From(Math.E));
        yield return ("f64.nan_payload", GgufValue.FromBits(GgufValueType.Float64, 0x7FF8_0000_DEAD_BEEF));
        yield return ("ключ.名前.🔑", GgufValue.From("unicode key"));
        yield return ("", GgufValue.From("empty key"));
        foreach (GgufValueType t in Enum.GetValues<GgufValueType>())
            yield return ($"array.empty.{t}", Arr(t));
        yield return ("array.u8", Arr(GgufValueType.UInt8, GgufValue.From((byte)1), GgufValue.From((byte)255)));
        yield return ("array.i8", Arr(GgufValueType.Int8, GgufValue.From((sbyte)-1), GgufValue.From((sbyte)127)));
        yield return ("array.u16", Arr(GgufValueType.UInt16, GgufValue.From((ushort)65535)));
        yield return ("array.i16", Arr(GgufValueType.Int16, GgufValue.From((short)-2), GgufValue.From((short)3)));
        yield return ("array.u32", GgufValue.FromArray(GgufArray.Of(GgufValueType.UInt32, [GgufValue.From(7u), GgufValue.From(uint.MaxValue)])));
        yield return ("array.i32", GgufValue.FromArray(GgufArray.Of([1, -2, int.MaxValue])));
        yield return ("array.f32", GgufValue.FromArray(GgufArray.Of([0.5f, -1e-30f, float.NaN])));
        yield return ("array.bool", Arr(GgufValueType.Bool, GgufValue.From(true), GgufValue.From(false), GgufValue.From(true)));
        yield return ("array.u64", Arr(GgufValueType.UInt64, GgufValue.From(ulong.MaxValue), GgufValue.From(0UL)));
        yield return ("array.i64", Arr(GgufValueType.Int64, GgufValue.From(-5L)));
        yield return ("array.f64", Arr(GgufValueType.Float64, GgufValue.From(1.25), GgufValue.From(double.MaxValue)));
        yield return ("array.string", GgufValue.FromArray(GgufArray.Of(["", "a", "ünï", "", "<0x0A>", "last"])));
        yield return ("array.array.i32", Arr(GgufValueType.Array,
            Arr(GgufValueType.Int32, GgufValue.From(1), GgufValue.From(2)),
            Arr(GgufValueType.Int32),
            Arr(GgufValueType.Int32, GgufValue.From(-3))));
        yield return ("array.array.mixed", Arr(GgufValueType.Array,
            Arr(GgufValueType.String, GgufValue.From("x"), GgufValue.From("")),
            Arr(GgufValueType.Float32, GgufValue.From(2.5f)),
            Arr(GgufValueType.Array, Arr(GgufValueType.Bool, GgufValue.From(true))),
            Arr(GgufValueType.UInt8)));
        yield return ("array.array.empty", Arr(GgufValueType.Array, Arr(GgufValueType.Array), Arr(GgufValueType.String)));
        yield return ("array.nested.max", Nested(GgufFile.MaxArrayDepth));
        yield return ("after.arrays", GgufValue.From(42u));
    }

    /// <summary>Deterministic pseudo-random tensor bytes (for quantised types, arbitrary block contents).</summary>
    public static byte[] TensorBytes(string name, long size)
    {
        var bytes = new byte[size];
        new Random(name.Length * 7919 + (int)size).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The sample writer; the tensor named <c>f16.matrix</c> is fed by a callback in odd-sized pieces.</summary>
    public static GgufWriter CreateWriter(uint? alignment = null)
    {
        var w = new GgufWriter();
        if (alignment is { } a) w.AddMetadata(GgufFile.AlignmentKey, GgufValue.From(a));
        foreach (var (key, value) in Metadata()) w.AddMetadata(key, value);
        foreach (var (name, type, dims) in TensorSpecs)
        {
            byte[] data = TensorBytes(name, ByteSize(type, dims));
            if (name == "f16.matrix")
            {
                w.AddTensor(name, type, dims, s =>
                {
                    s.WriteByte(data[0]);
                    s.Write(data, 1, 12);
                    s.Write(data.AsSpan(13));
                });
            }
            else
            {
                w.AddTensor(name, type, dims, data);
            }
        }
        return w;
    }

    public static byte[] Bytes(uint? alignment = null) => ToBytes(CreateWriter(alignment));

    public static byte[] ToBytes(GgufWriter writer)
    {
        using var ms = new MemoryStream();
        writer.WriteTo(ms);
        return ms.ToArray();
    }

    public static long ByteSize(GgmlType type, long[] dims)
    {
        var info = GgmlTypeInfo.Get(type);
        long elements = dims.Aggregate(1L, (a, d) => a * d);
        return elements / info.BlockSize * info.BlockBytes;
    }
}
