namespace ManagedKv.Gguf.Tests.Quantization;

/// <summary>
/// The reference quantisers must reproduce llama-quantize's bytes: every tensor of every tiny-llama variant
/// is re-quantised from tiny-llama-F32.gguf to the type llama-quantize chose for it and compared byte for
/// byte with the file.
/// </summary>
[TestClass]
public sealed class QuantizerGoldenBytesTests
{
    [TestMethod]
    [DynamicData(nameof(TinyLlama.VariantRows), typeof(TinyLlama))]
    public void ReferenceQuantisersReproduceLlamaQuantize(string variant)
    {
        GgufFile file = TinyLlama.Open(variant);
        var failures = new List<string>();
        int compared = 0;
        foreach (GgufTensorInfo t in file.Tensors)
        {
            Assert.IsTrue(GgmlQuants.CanQuantize(t.Type), $"{t.Name}: no quantiser for {t.Type}");
            ReadOnlySpan<float> src = TinyLlama.F32Values(t.Name);
            ReadOnlySpan<byte> expected = file.GetTensorBytes(t);
            var actual = new byte[expected.Length];
            GgmlQuants.QuantizeRow(t.Type, src, actual);
            compared++;
            if (!expected.SequenceEqual(actual))
            {
                var info = GgmlTypeInfo.Get(t.Type);
                int blocks = expected.Length / info.BlockBytes, bad = 0, first = -1;
                for (int b = 0; b < blocks; b++)
                {
                    if (!expected.Slice(b * info.BlockBytes, info.BlockBytes).SequenceEqual(actual.AsSpan(b * info.BlockBytes, info.BlockBytes)))
                    {
                        bad++;
                        if (first < 0) first = b;
                    }
                }
                failures.Add($"{t.Name} ({t.Type}): {bad}/{blocks} blocks differ, first at block {first}");
            }
        }
        Assert.IsTrue(compared > 0);
        Assert.AreEqual(0, failures.Count, string.Join("\n", failures));
    }
}
