using ManagedKv.Gguf;
using ManagedKv.Model.Config;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.Model.Synthesis;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Synthesis;

/// <summary>
/// Synthesised models against the reference files they follow the recipe of: byte-identical to every
/// testdata/models/tiny-*.gguf (which gguf-py and llama-quantize wrote), the §10 file sizes, loading and
/// running, determinism, and the tokenizer padding.
/// </summary>
[TestClass]
public sealed class ModelSynthesizerTests
{
    private static string Tokenizer => TestData.Path("stories260K.gguf");

    public static IEnumerable<object[]> ReferenceFiles =>
    [
        .. new[] { "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K_M", "Q5_K_M", "Q6_K", "Q2_K", "Q3_K_M" }
            .Select(t => new object[] { "tiny", t, $"tiny-llama-{t}.gguf" }),
        ["tiny-tied", "F32", "tiny-llama-tied-F32.gguf"],
        ["tiny-tied", "Q8_0", "tiny-llama-tied-Q8_0.gguf"],
        ["tiny-qwen2", "F32", "tiny-qwen2-F32.gguf"],
        ["tiny-qwen2", "Q8_0", "tiny-qwen2-Q8_0.gguf"],
    ];

    public static IEnumerable<object[]> AllFileTypes => LlamaFileTypes.All.Select(t => new object[] { t });

    [TestMethod]
    [DynamicData(nameof(ReferenceFiles))]
    public void ReproducesTheReferenceFileByteForByte(string shape, string type, string file)
    {
        var synthesizer = new ModelSynthesizer(SyntheticShape.Find(shape)!, LlamaFileTypes.Find(type)!.Value, Tokenizer);
        byte[] expected = File.ReadAllBytes(TestData.Path("models", file));
        byte[] actual = Write(synthesizer);
        Assert.AreEqual(expected.Length, actual.Length, $"{file}: size");
        int first = expected.AsSpan().CommonPrefixLength(actual);
        Assert.AreEqual(expected.Length, first, $"{file}: first difference at byte {first}");
        Assert.AreEqual(expected.Length, synthesizer.MeasureFileSize(), "measured size");
    }

    [TestMethod]
    [DataRow("smollm2-135m", "f16", 270_431_232L)]
    [DataRow("smollm2-135m", "q8_0", 144_356_384L)]
    [DataRow("smollm2-135m", "q4_k_m", 104_999_456L)]
    [DataRow("llama-3.2-1b", "f16", 2_475_251_456L)]
    [DataRow("llama-3.2-1b", "q8_0", 1_316_738_848L)]
    [DataRow("llama-3.2-1b", "q4_k_m", 803_350_304L)]
    public void FileSizesMatchTheBenchmarkFilesLlamaQuantizeWrote(string shape, string type, long expected)
    {
        // Golden README §10. Tensor data sizes follow from the types; the header from the metadata and tensor
        // infos, padded to 32 bytes (general.name is not recorded there; ours falls in the window that fits).
        var synthesizer = new ModelSynthesizer(SyntheticShape.Find(shape)!, LlamaFileTypes.Find(type)!.Value, Tokenizer);
        Assert.AreEqual(expected, synthesizer.MeasureFileSize());
    }

    [TestMethod]
    [DynamicData(nameof(AllFileTypes))]
    public void TinyLoadsWithTinyLlamasConfigAndRuns(LlamaFileType fileType)
    {
        string dir = TestData.ScratchDirectory("synth");
        string path = Path.Combine(dir, $"tiny-{LlamaFileTypes.Name(fileType)}.gguf");
        try
        {
            new ModelSynthesizer(SyntheticShape.Tiny, fileType, Tokenizer).WriteTo(path);
            using var reference = ModelSource.Open(TestData.Path("models", "tiny-llama-F32.gguf"));
            using var source = ModelSource.Open(path);
            Assert.AreEqual(reference.Config, source.Config);
            Assert.AreEqual(SyntheticShape.Tiny.Config, source.Config);
            source.ValidateTensors();
            Assert.AreEqual((int)fileType, source.Gguf!.GetInt32("general.file_type"));

            using var backend = new ReferenceBackend();
            using var transformer = new Transformer(source, backend);
            var logits = new Session(transformer).Prefill(source.CreateTokenizer().Encode("Once upon a time", addSpecial: true));
            Assert.AreEqual(512, logits.Length);
            foreach (float v in logits) Assert.IsTrue(float.IsFinite(v), $"{fileType}: non-finite logit");
            Assert.IsTrue(MaxAbs(logits) > 0.1f, $"{fileType}: logits are all near zero");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void SameSeedSameBytesWhateverTheThreadCount()
    {
        byte[] one = Write(new ModelSynthesizer(SyntheticShape.Tiny, LlamaFileType.Q4_K_M, Tokenizer, seed: 5) { MaxDegreeOfParallelism = 1 });
        byte[] four = Write(new ModelSynthesizer(SyntheticShape.Tiny, LlamaFileType.Q4_K_M, Tokenizer, seed: 5) { MaxDegreeOfParallelism = 4 });
        byte[] again = Write(new ModelSynthesizer(SyntheticShape.Tiny, LlamaFileType.Q4_K_M, Tokenizer, seed: 5) { MaxDegreeOfParallelism = 3 });
        byte[] other = Write(new ModelSynthesizer(SyntheticShape.Tiny, LlamaFileType.Q4_K_M, Tokenizer, seed: 6));
        CollectionAssert.AreEqual(one, four);
        CollectionAssert.AreEqual(one, again);
        Assert.AreEqual(one.Length, other.Length);
        CollectionAssert.AreNotEqual(one, other);
    }

    [TestMethod]
    public void ChunksSpanningManyRowsAndTensorsLargerThanAChunkAgreeWithOneSequentialStream()
    {
        // A shape whose token_embd spans several chunks: every value must still be the next value of one stream.
        var shape = WithVocab(SyntheticShape.Tiny, 2500);   // 2500 × 256 values = 2.4 chunks
        var synthesizer = new ModelSynthesizer(shape, LlamaFileType.F32, Tokenizer, seed: 11) { MaxDegreeOfParallelism = 3 };
        using var gguf = GgufFile.FromBytes(Write(synthesizer));
        var rng = Pcg64.FromSeed(11);
        foreach (var t in synthesizer.Tensors.OrderBy(t => t.DrawIndex))
        {
            var info = gguf.GetTensor(t.Name);
            float[] stored = new float[info.ElementCount];
            GgmlQuants.DequantizeRow(GgmlType.F32, gguf.GetTensorBytes(info), stored);
            float[] z = new float[stored.Length];
            StandardNormal.Fill(ref rng, z);
            float scale = (float)Math.Sqrt(t.RowLength);
            for (int i = 0; i < z.Length; i++)
            {
                float expected = t.Kind switch { WeightKind.Matrix => z[i] / scale, WeightKind.Norm => 1f + 0.05f * z[i], _ => 0.5f * z[i] };
                Assert.AreEqual(expected, stored[i], $"{t.Name}[{i}]");
            }
        }
    }

    [TestMethod]
    public void PadsTheTokenizerToTheVocabulary()
    {
        var shape = WithVocab(SyntheticShape.Tiny, 1000);
        using var gguf = GgufFile.FromBytes(Write(new ModelSynthesizer(shape, LlamaFileType.Q8_0, Tokenizer)));
        using var stories = GgufFile.Open(Tokenizer);
        string[] tokens = gguf.GetArray("tokenizer.ggml.tokens")!.ToStringArray();
        float[] scores = gguf.GetArray("tokenizer.ggml.scores")!.ToSingleArray();
        int[] types = gguf.GetArray("tokenizer.ggml.token_type")!.ToInt32Array();
        Assert.AreEqual(1000, tokens.Length);
        CollectionAssert.AreEqual(stories.GetArray("tokenizer.ggml.tokens")!.ToStringArray(), tokens[..512]);
        CollectionAssert.AreEqual(stories.GetArray("tokenizer.ggml.scores")!.ToSingleArray(), scores[..512]);
        Assert.AreEqual("<pad_512>", tokens[512]);
        Assert.AreEqual("<pad_999>", tokens[999]);
        Assert.IsTrue(scores[512..].All(s => s == 0));
        Assert.IsTrue(types[512..].All(t => t == 4));   // USER_DEFINED
        Assert.AreEqual(GgufValueType.Int32, gguf.GetArray("tokenizer.ggml.token_type")!.ElementType);
        // Every other tokenizer key is copied with its type, in order.
        var expectedKeys = stories.MetadataInOrder.Where(kv => kv.Key.StartsWith("tokenizer.ggml.")).Select(kv => (kv.Key, kv.Value.Type)).ToList();
        var actualKeys = gguf.MetadataInOrder.Where(kv => kv.Key.StartsWith("tokenizer.ggml.")).Select(kv => (kv.Key, kv.Value.Type)).ToList();
        CollectionAssert.AreEqual(expectedKeys, actualKeys);

        string dir = TestData.ScratchDirectory("synth");
        try
        {
            string path = Path.Combine(dir, "padded.gguf");
            new ModelSynthesizer(shape, LlamaFileType.Q8_0, Tokenizer).WriteTo(path);
            using var source = ModelSource.Open(path);
            var tokenizer = source.CreateTokenizer();
            Assert.AreEqual(1000, tokenizer.VocabSize);
            CollectionAssert.AreEqual(new[] { 1, 403 }, tokenizer.Encode("Once", addSpecial: true));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void RefusesShapesTheMetadataCannotExpress()
    {
        var tiny = SyntheticShape.Tiny;
        ArgumentException Refused(ModelConfig config) =>
            Assert.ThrowsExactly<ArgumentException>(() => new ModelSynthesizer(tiny with { Config = config }, LlamaFileType.F32, Tokenizer));
        StringAssert.Contains(Refused(tiny.Config with { KvHeadCount = 3 }).Message, "KV heads");
        StringAssert.Contains(Refused(tiny.Config with { HeadDim = 32, ValueHeadDim = 32 }).Message, "head_dim");
        StringAssert.Contains(Refused(tiny.Config with { RopeScaling = new RopeScaling.Linear(2) }).Message, "rope scaling");
        StringAssert.Contains(Refused(tiny.Config with { RopeStyle = RopeStyle.Neox }).Message, "rope");
        Assert.ThrowsExactly<ArgumentException>(() => new ModelSynthesizer(tiny with { SourceType = GgmlType.Q8_0 }, LlamaFileType.F32, Tokenizer));
    }

    [TestMethod]
    public void RefusesATokenizerThatDoesNotFit()
    {
        var small = WithVocab(SyntheticShape.Tiny, 300);
        var e = Assert.ThrowsExactly<GgufFormatException>(() => new ModelSynthesizer(small, LlamaFileType.F32, Tokenizer));
        Assert.AreEqual("tokenizer.ggml.tokens", e.Field);
        // A model file without a tokenizer.
        string dir = TestData.ScratchDirectory("synth-notok");
        try
        {
            string path = Path.Combine(dir, "empty.gguf");
            var writer = new GgufWriter();
            writer.AddMetadata("general.architecture", GgufValue.FromString("llama"));
            writer.WriteTo(path);
            e = Assert.ThrowsExactly<GgufFormatException>(() => new ModelSynthesizer(SyntheticShape.Tiny, LlamaFileType.F32, path));
            Assert.AreEqual("tokenizer.ggml.tokens", e.Field);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void ReportsProgressUpToTheTotal()
    {
        var reports = new List<SynthesisProgress>();
        var synthesizer = new ModelSynthesizer(SyntheticShape.Tiny, LlamaFileType.Q8_0, Tokenizer) { Progress = new Collect(reports) };
        Write(synthesizer);
        var scans = reports.Where(r => r.Phase == SynthesisPhase.Scanning).ToList();
        var writes = reports.Where(r => r.Phase == SynthesisPhase.Writing).ToList();
        Assert.AreEqual(synthesizer.ParameterCount, scans[^1].Done);
        Assert.AreEqual(synthesizer.DataBytes, writes[^1].Done);
        Assert.AreEqual(synthesizer.DataBytes, writes[^1].Total);
        Assert.IsTrue(writes.Zip(writes.Skip(1)).All(p => p.First.Done <= p.Second.Done));
    }

    private sealed class Collect(List<SynthesisProgress> into) : IProgress<SynthesisProgress>
    {
        public void Report(SynthesisProgress value) => into.Add(value);
    }

    private static SyntheticShape WithVocab(SyntheticShape shape, int vocab) =>
        shape with { Id = shape.Id + "-v" + vocab, Config = shape.Config with { VocabSize = vocab } };

    private static byte[] Write(ModelSynthesizer synthesizer)
    {
        using var stream = new MemoryStream();
        synthesizer.WriteTo(stream);
        return stream.ToArray();
    }

    private static float MaxAbs(ReadOnlySpan<float> values)
    {
        float max = 0;
        foreach (float v in values) max = Math.Max(max, Math.Abs(v));
        return max;
    }
}
