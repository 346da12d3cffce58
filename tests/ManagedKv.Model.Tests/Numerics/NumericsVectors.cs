using ManagedKv.Gguf;

namespace ManagedKv.Model.Tests.Numerics;

/// <summary>Deterministic inputs shared with ggml_vectors.cpp, and bit-pattern helpers.</summary>
internal sealed class NumericsVectors(uint seed)
{
    private uint _state = seed;

    /// <summary>
    /// The generator of ggml_vectors.cpp: a 32-bit LCG, value k/4096 with k in [−10000, 10000], so every value is
    /// exact in f32 and identical in C and C#.
    /// </summary>
    public float Next()
    {
        _state = unchecked(_state * 1664525u + 1013904223u);
        return (int)((_state >> 8) % 20001u - 10000u) / 4096.0f;
    }

    /// <summary>The next <paramref name="count"/> values.</summary>
    public float[] Take(int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = Next();
        return values;
    }

    /// <summary>The f32 values of bit patterns.</summary>
    public static float[] Floats(uint[] bits) => bits.Select(BitConverter.UInt32BitsToSingle).ToArray();

    /// <summary>The ggml type of a ggml_type_name ("f32", "q4_K", …).</summary>
    public static GgmlType Type(string ggmlName) => Enum.Parse<GgmlType>(ggmlName, ignoreCase: true);

    /// <summary>Asserts that two f32 sequences are bit-identical, naming the first difference.</summary>
    public static void AssertBits(uint[] expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        for (int i = 0; i < expected.Length; i++)
        {
            uint got = BitConverter.SingleToUInt32Bits(actual[i]);
            Assert.AreEqual(expected[i], got,
                $"{what}[{i}]: expected 0x{expected[i]:x8} ({BitConverter.UInt32BitsToSingle(expected[i]):R}), got 0x{got:x8} ({actual[i]:R})");
        }
    }

    /// <summary>How many values differ in their bits from the expected patterns.</summary>
    public static int CountDifferent(uint[] expected, ReadOnlySpan<float> actual)
    {
        int n = 0;
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToUInt32Bits(actual[i]) != expected[i]) n++;
        return n;
    }
}
