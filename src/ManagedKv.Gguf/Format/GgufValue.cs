using System.Globalization;

namespace ManagedKv.Gguf;

/// <summary>
/// One metadata value. Scalars and strings are held directly; arrays are views over the mapped file that
/// decode on demand (<see cref="GgufArray"/>), so a large vocabulary costs nothing until it is asked for.
/// </summary>
public sealed class GgufValue
{
    private readonly ulong _bits;     // integer, bool or IEEE bits of a float scalar
    private readonly string? _string;
    private readonly GgufArray? _array;

    private GgufValue(GgufValueType type, ulong bits, string? text, GgufArray? array)
    {
        Type = type;
        _bits = bits;
        _string = text;
        _array = array;
    }

    /// <summary>The stored type.</summary>
    public GgufValueType Type { get; }

    /// <summary>Creates a scalar value from its raw little-endian bits (sign-extended for signed types).</summary>
    public static GgufValue FromBits(GgufValueType type, ulong bits) => new(type, bits, null, null);

    /// <summary>Creates a string value.</summary>
    public static GgufValue FromString(string text) => new(GgufValueType.String, 0, text, null);

    /// <summary>Creates an array value.</summary>
    public static GgufValue FromArray(GgufArray array) => new(GgufValueType.Array, 0, null, array);

    /// <summary>Convenience constructors for writers and tests.</summary>
    public static GgufValue From(uint v) => FromBits(GgufValueType.UInt32, v);
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(int v) => FromBits(GgufValueType.Int32, unchecked((ulong)(long)v));
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(ulong v) => FromBits(GgufValueType.UInt64, v);
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(long v) => FromBits(GgufValueType.Int64, unchecked((ulong)v));
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(float v) => FromBits(GgufValueType.Float32, BitConverter.SingleToUInt32Bits(v));
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(double v) => FromBits(GgufValueType.Float64, BitConverter.DoubleToUInt64Bits(v));
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(bool v) => FromBits(GgufValueType.Bool, v ? 1UL : 0UL);
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(string v) => FromString(v);

    /// <summary>True for the integer types.</summary>
    public bool IsInteger => Type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16
        or GgufValueType.Int16 or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    /// <summary>The string; throws <see cref="InvalidCastException"/> for other types.</summary>
    public string AsString() => _string ?? throw Mismatch("string");

    /// <summary>The array view; throws <see cref="InvalidCastException"/> for other types.</summary>
    public GgufArray AsArray() => _array ?? throw Mismatch("array");

    /// <summary>The bool; throws for other types.</summary>
    public bool AsBool() => Type == GgufValueType.Bool ? _bits != 0 : throw Mismatch("bool");

    /// <summary>Any integer type as a signed 64-bit value; a uint64 above <see cref="long.MaxValue"/> throws.</summary>
    public long AsInt64()
    {
        if (!IsInteger) throw Mismatch("integer");
        if (Type == GgufValueType.UInt64 && _bits > long.MaxValue) throw new OverflowException($"uint64 value {_bits} does not fit in int64");
        return unchecked((long)_bits);
    }

    /// <summary>Any integer type that fits in an int32.</summary>
    public int AsInt32()
    {
        long v = AsInt64();
        return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw new OverflowException($"value {v} does not fit in int32");
    }

    /// <summary>Any integer type that fits in a uint32.</summary>
    public uint AsUInt32()
    {
        long v = AsInt64();
        return v is >= 0 and <= uint.MaxValue ? (uint)v : throw new OverflowException($"value {v} does not fit in uint32");
    }

    /// <summary>A float32/float64 (or an integer) as a double.</summary>
    public double AsDouble() => Type switch
    {
        GgufValueType.Float32 => BitConverter.UInt32BitsToSingle((uint)_bits),
        GgufValueType.Float64 => BitConverter.UInt64BitsToDouble(_bits),
        _ when IsInteger => Type == GgufValueType.UInt64 ? (double)_bits : AsInt64(),
        _ => throw Mismatch("number"),
    };

    /// <summary>A float32/float64 (or an integer) as a float.</summary>
    public float AsSingle() => (float)AsDouble();

    /// <summary>A short human-readable rendering (arrays show type, count and first elements).</summary>
    public override string ToString() => Type switch
    {
        GgufValueType.String => _string!,
        GgufValueType.Array => _array!.ToString(),
        GgufValueType.Bool => AsBool() ? "true" : "false",
        GgufValueType.Float32 => AsSingle().ToString("R", CultureInfo.InvariantCulture),
        GgufValueType.Float64 => AsDouble().ToString("R", CultureInfo.InvariantCulture),
        GgufValueType.UInt64 => _bits.ToString(CultureInfo.InvariantCulture),
        _ => AsInt64().ToString(CultureInfo.InvariantCulture),
    };

    private InvalidCastException Mismatch(string wanted) => new($"metadata value is {Type}, not {wanted}");
}
