namespace ManagedKv.Gguf;

/// <summary>Metadata value types, numbered as in the GGUF specification.</summary>
public enum GgufValueType : uint
{
    /// <summary>uint8</summary>
    UInt8 = 0,
    /// <summary>int8</summary>
    Int8 = 1,
    /// <summary>uint16</summary>
    UInt16 = 2,
    /// <summary>int16</summary>
    Int16 = 3,
    /// <summary>uint32</summary>
    UInt32 = 4,
    /// <summary>int32</summary>
    Int32 = 5,
    /// <summary>float32</summary>
    Float32 = 6,
    /// <summary>bool (one byte, 0 or 1)</summary>
    Bool = 7,
    /// <summary>UTF-8 string: uint64 length then bytes.</summary>
    String = 8,
    /// <summary>Array: uint32 element type, uint64 count, then elements.</summary>
    Array = 9,
    /// <summary>uint64</summary>
    UInt64 = 10,
    /// <summary>int64</summary>
    Int64 = 11,
    /// <summary>float64</summary>
    Float64 = 12,
}

/// <summary>Sizes of the fixed-width metadata value types.</summary>
public static class GgufValueTypes
{
    /// <summary>Bytes of one value of a fixed-width type; 0 for strings and arrays; -1 for unknown ids.</summary>
    public static int FixedSize(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        GgufValueType.String or GgufValueType.Array => 0,
        _ => -1,
    };
}
