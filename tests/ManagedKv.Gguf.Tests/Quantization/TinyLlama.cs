using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using ManagedKv.TestKit;

namespace ManagedKv.Gguf.Tests.Quantization;

/// <summary>
/// The tiny-llama golden files (testdata/models, made by llama-quantize from tiny-llama-F32.gguf with no
/// importance matrix; see shared golden README §3), opened once per test run and kept mapped.
/// </summary>
internal static class TinyLlama
{
    /// <summary>Every quantised variant llama-quantize produced.</summary>
    public static readonly string[] Variants =
        ["F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K_M", "Q5_K_M", "Q6_K", "Q2_K", "Q3_K_M"];

    private static readonly ConcurrentDictionary<string, GgufFile> Files = new();

    /// <summary>tiny-llama-&lt;variant&gt;.gguf.</summary>
    public static GgufFile Open(string variant) =>
        Files.GetOrAdd(variant, v => GgufFile.Open(TestData.Path("models", $"tiny-llama-{v}.gguf")));

    /// <summary>The F32 source model.</summary>
    public static GgufFile F32 => Open("F32");

    /// <summary>The f32 values of a tensor of the F32 model.</summary>
    public static ReadOnlySpan<float> F32Values(string tensorName) =>
        MemoryMarshal.Cast<byte, float>(F32.GetTensorBytes(F32.GetTensor(tensorName)));

    /// <summary>DynamicData source: one row per variant.</summary>
    public static IEnumerable<object[]> VariantRows => Variants.Select(v => new object[] { v });
}
