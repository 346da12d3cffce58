using System.Globalization;

namespace ManagedKv.Gguf;

/// <summary>
/// One metadata value. Scalars and strings are held directly; arrays are views over the mapped file that
/// decode on demand (<see cref="GgufArray"/>), so a large vocabulary costs nothing until it is asked for.
/// </summary>
public sealed class GgufValue
{
    private readonly ulong _bits;     // integer (sign-extended), bool or IEEE bits of a float scalar
    private readonly object? _ref;    // the string or the GgufArray (one field: values are made per metadata pair)

    private GgufValue(GgufValueType type, ulong bits, object? reference)
    {
        Type = type;
        _bits = bits;
        _ref = reference;
    }

    /// <summary>The stored type.</summary>
    public GgufValueType Type { get; }

    /// <summary>The raw bits of a scalar (sign-extended for signed types; 0 for strings and arrays).</summary>
    internal ulong Bits => _bits;

    /// <summary>
    /// Creates a scalar value from its raw little-endian bits (sign-extended for signed types).
    /// Throws <see cref="ArgumentException"/> for string/array/unknown types and for bits the type cannot hold
    /// (e.g. 256 as uint8, 2 as bool), so every value can be written back exactly as it reads.
    /// </summary>
    public static GgufValue FromBits(GgufValueType type, ulong bits)
    {
        long signed = unchecked((long)bits);
        bool fits = type switch
        {
            GgufValueType.UInt8 => bits <= byte.MaxValue,
            GgufValueType.Int8 => signed is >= sbyte.MinValue and <= sbyte.MaxValue,
            GgufValueType.Bool => bits <= 1,
            GgufValueType.UInt16 => bits <= ushort.MaxValue,
            GgufValueType.Int16 => signed is >= short.MinValue and <= short.MaxValue,
            GgufValueType.UInt32 or GgufValueType.Float32 => bits <= uint.MaxValue,
            GgufValueType.Int32 => signed is >= int.MinValue and <= int.MaxValue,
            GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => true,
            _ => throw new ArgumentException($"{type} is not a scalar type; use FromString or FromArray", nameof(type)),
        };
        if (!fits) throw new ArgumentException($"bits 0x{bits:X} do not fit a {type}", nameof(bits));
        return new(type, bits, null);
    }

    /// <summary>A scalar whose bits the reader already shaped correctly (no checks: the hot path of opening a file).</summary>
    internal static GgufValue Scalar(GgufValueType type, ulong bits) => new(type, bits, null);

    /// <summary>Creates a string value.</summary>
    public static GgufValue FromString(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new(GgufValueType.String, 0, text);
    }

    /// <summary>Creates an array value.</summary>
    public static GgufValue FromArray(GgufArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        return new(GgufValueType.Array, 0, array);
    }

    /// <summary>Convenience constructors for writers and tests.</summary>
    public static GgufValue From(uint v) => Scalar(GgufValueType.UInt32, v);
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(int v) => Scalar(GgufValueType.Int32, unchecked((ulong)(long)v));
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(ulong v) => Scalar(GgufValueType.UInt64, v);
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(long v) => Scalar(GgufValueType.Int64, unchecked((ulong)v));
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(byte v) => Scalar(GgufValueType.UInt8, v);
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(sbyte v) => Scalar(GgufValueType.Int8, unchecked((ulong)(long)v));
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(ushort v) => Scalar(GgufValueType.UInt16, v);
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(short v) => Scalar(GgufValueType.Int16, unchecked((ulong)(long)v));
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(float v) => Scalar(GgufValueType.Float32, BitConverter.SingleToUInt32Bits(v));
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(double v) => Scalar(GgufValueType.Float64, BitConverter.DoubleToUInt64Bits(v));
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(bool v) => Scalar(GgufValueType.Bool, v ? 1UL : 0UL);
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(string v) => FromString(v);
    /// <inheritdoc cref="From(uint)"/>
    public static GgufValue From(GgufArray v) => FromArray(v);

    /// <summary>True for the integer types.</summary>
    public bool IsInteger => Type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16
        or GgufValueType.Int16 or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    /// <summary>The string; throws <see cref="InvalidCastException"/> for other types.</summary>
    public string AsString() => _ref as string ?? throw Mismatch("string");

    /// <summary>The array view; throws <see cref="InvalidCastException"/> for other types.</summary>
    public GgufArray AsArray() => _ref as GgufArray ?? throw Mismatch("array");

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
        GgufValueType.String or GgufValueType.Array => _ref!.ToString()!,
        GgufValueType.Bool => AsBool() ? "true" : "false",
        GgufValueType.Float32 => BitConverter.UInt32BitsToSingle((uint)_bits).ToString("R", CultureInfo.InvariantCulture),
        GgufValueType.Float64 => AsDouble().ToString("R", CultureInfo.InvariantCulture),
        GgufValueType.UInt64 => _bits.ToString(CultureInfo.InvariantCulture),
        _ => AsInt64().ToString(CultureInfo.InvariantCulture),
    };

    private InvalidCastException Mismatch(string wanted) => new($"metadata value is {Type}, not {wanted}");
}
