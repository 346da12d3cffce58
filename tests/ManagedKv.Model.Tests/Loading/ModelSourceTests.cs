using System.Buffers.Binary;
using ManagedKv.Gguf;
using ManagedKv.Model.Config;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Tests.Config;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Loading;

[TestClass]
public sealed class ModelSourceTests
{
    public static IEnumerable<object[]> AllGgufModels =>
        Directory.GetFiles(Path.Combine(TestData.Directory, "models"), "*.gguf").Order(StringComparer.Ordinal)
            .Select(p => new object[] { Path.GetFileName(p) })
            .Prepend(["../stories260K.gguf"]);

    [TestMethod]
    [DynamicData(nameof(AllGgufModels))]
    public void EveryGgufModelHasTheTensorsItsConfigNeeds(string file)
    {
        using var source = ModelSource.Open(Path.GetFullPath(Path.Combine(TestData.Directory, "models", file)));
        Assert.AreEqual(ModelFormat.Gguf, source.Format);
        Assert.IsNotNull(source.Gguf);
        Assert.IsNull(source.Safetensors);
        Assert.IsNull(source.Folder);
        Assert.IsNull(source.TokenizerJsonPath);
        source.ValidateTensors();
        var embd = source.GetTensor("token_embd.weight");
        CollectionAssert.AreEqual(new long[] { source.Config.EmbeddingLength, source.Config.VocabSize }, embd.Dimensions);
        Assert.AreEqual(source.Config.TiedEmbeddings, !source.TryGetTensor("output.weight", out _));
        CollectionAssert.AreEquivalent(source.Gguf!.Tensors.Select(t => t.Name).ToArray(), source.TensorNames.ToArray());
    }

    [TestMethod]
    [DataRow("tiny-llama-F32.gguf", 1)]
    [DataRow("tiny-llama-F32.gguf", 3)]
    [DataRow("tiny-llama-tied-F32.gguf", 1)]
    [DataRow("tiny-qwen2-F32.gguf", 2)]
    [DataRow("tiny-llama-BF16.gguf", 1)]
    [DataRow("tiny-llama-F16.gguf", 2)]
    public void HuggingFaceFolderBuiltFromGgufLoadsWithTheSameConfigAndWeights(string file, int shards)
    {
        string ggufPath = TestData.Path("models", file);
        string folder = HfCheckpointBuilder.Build(ggufPath, TestData.ScratchDirectory("hf-" + file), new(shards));
        using var gguf = ModelSource.Open(ggufPath);
        using var hf = ModelSource.Open(folder);

        Assert.AreEqual(ModelFormat.Safetensors, hf.Format);
        Assert.IsNull(hf.Gguf);
        Assert.AreEqual(folder, hf.Folder);
        Assert.AreEqual(shards > 1, hf.Safetensors!.IsSharded);
        Assert.AreEqual(shards, hf.Safetensors.Files.Count);
        hf.ValidateTensors();

        // Same hyper-parameters; only the rope pairing differs for llama (unpermuted HF weights need NEOX).
        Assert.AreEqual(RopeStyle.Neox, hf.Config.RopeStyle);
        Assert.AreEqual(gguf.Config, hf.Config with { RopeStyle = gguf.Config.RopeStyle });
        CollectionAssert.AreEquivalent(gguf.TensorNames.ToArray(), hf.TensorNames.ToArray());

        bool permuted = gguf.Config.RopeStyle == RopeStyle.Norm;
        foreach (string name in gguf.TensorNames)
        {
            var g = gguf.GetTensor(name);
            var h = hf.GetTensor(name);
            Assert.AreEqual(HfTensorNames.ToHuggingFace(name), h.Name);
            Assert.AreEqual(g.Type, h.Type, name);
            CollectionAssert.AreEqual(g.Dimensions, h.Dimensions, name);
            bool qk = name.EndsWith("attn_q.weight", StringComparison.Ordinal) || name.EndsWith("attn_k.weight", StringComparison.Ordinal);
            if (permuted && qk)
            {
                Assert.IsFalse(g.Bytes.SequenceEqual(h.Bytes), $"{name} should be stored in Hugging Face row order");
                for (int r = 0; r < g.RowCount; r++)
                    Assert.IsTrue(g.Row(r).SequenceEqual(h.Row(HfCheckpointBuilder.HfRowOf(r, gguf.Config.HeadDim))), $"{name} row {r}");
            }
            else
            {
                Assert.IsTrue(g.Bytes.SequenceEqual(h.Bytes), name);
            }
        }
    }

    /// <summary>
    /// The point of the permutation: attention scores q·k computed from GGUF weights with the GGUF rope
    /// style equal those from the Hugging Face weights with NEOX rope — and NOT those from the Hugging
    /// Face weights with NORM rope, so the rope style in the config really matters.
    /// </summary>
    [TestMethod]
    [DataRow("tiny-llama-F32.gguf")]
    [DataRow("tiny-llama-tied-F32.gguf")]
    [DataRow("tiny-qwen2-F32.gguf")]
    public void HuggingFaceWeightsWithNeoxRopeGiveTheGgufAttentionScores(string file)
    {
        string ggufPath = TestData.Path("models", file);
        using var gguf = ModelSource.Open(ggufPath);
        using var hf = ModelSource.Open(HfCheckpointBuilder.Build(ggufPath, TestData.ScratchDirectory("hf-rope-" + file)));
        var c = gguf.Config;
        var rng = new Random(7);
        float[] xq = Enumerable.Range(0, c.EmbeddingLength).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] xk = Enumerable.Range(0, c.EmbeddingLength).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        const int posQ = 37, posK = 11;

        for (int block = 0; block < c.BlockCount; block++)
        {
            float[] expected = Scores(gguf, c, block, xq, xk, posQ, posK, c.RopeStyle);
            float[] actual = Scores(hf, c, block, xq, xk, posQ, posK, hf.Config.RopeStyle);
            for (int i = 0; i < expected.Length; i++)
                Assert.AreEqual(expected[i], actual[i], 1e-4f * Math.Max(1f, Math.Abs(expected[i])), $"block {block} head {i}");
            if (c.RopeStyle == RopeStyle.Norm)
            {
                float[] wrong = Scores(hf, c, block, xq, xk, posQ, posK, RopeStyle.Norm);
                Assert.IsTrue(expected.Zip(wrong).Max(p => Math.Abs(p.First - p.Second)) > 0.05f, "NORM rope on unpermuted weights must differ");
            }
        }
    }

    // q_h · k_{h / group} after rope, one score per query head.
    private static float[] Scores(ModelSource m, ModelConfig c, int block, float[] xq, float[] xk, int posQ, int posK, RopeStyle style)
    {
        float[] q = Project(m, $"blk.{block}.attn_q", xq);
        float[] k = Project(m, $"blk.{block}.attn_k", xk);
        var scores = new float[c.HeadCount];
        for (int h = 0; h < c.HeadCount; h++)
        {
            var qh = q.AsSpan(h * c.HeadDim, c.HeadDim);
            var kh = k.AsSpan(h / c.GroupSize * c.HeadDim, c.HeadDim);
            Rope(qh, posQ, c.RopeFreqBase, style);
            Rope(kh, posK, c.RopeFreqBase, style);
            double dot = 0;
            for (int i = 0; i < c.HeadDim; i++) dot += qh[i] * kh[i];
            scores[h] = (float)dot;
        }
        return scores;
    }

    private static float[] Project(ModelSource m, string prefix, float[] x)
    {
        var w = m.GetTensor(prefix + ".weight");
        Assert.AreEqual(GgmlType.F32, w.Type);
        var y = new float[w.RowCount];
        for (int r = 0; r < y.Length; r++)
        {
            var row = w.Row(r);
            double sum = 0;
            for (int i = 0; i < x.Length; i++) sum += BinaryPrimitives.ReadSingleLittleEndian(row[(4 * i)..]) * x[i];
            y[r] = (float)sum;
        }
        if (m.TryGetTensor(prefix + ".bias", out var b))
            for (int r = 0; r < y.Length; r++) y[r] += BinaryPrimitives.ReadSingleLittleEndian(b.Bytes[(4 * r)..]);
        return y;
    }

    // Rotary embedding over the whole head: pair i (angle pos·base^(−2i/d)) is (2i, 2i+1) for NORM, (i, i+d/2) for NEOX.
    private static void Rope(Span<float> v, int pos, float freqBase, RopeStyle style)
    {
        int d = v.Length;
        for (int i = 0; i < d / 2; i++)
        {
            double angle = pos * Math.Pow(freqBase, -2.0 * i / d);
            double cos = Math.Cos(angle), sin = Math.Sin(angle);
            int a = style == RopeStyle.Norm ? 2 * i : i;
            int b = style == RopeStyle.Norm ? 2 * i + 1 : i + d / 2;
            float x0 = v[a], x1 = v[b];
            v[a] = (float)(x0 * cos - x1 * sin);
            v[b] = (float)(x0 * sin + x1 * cos);
        }
    }

    [TestMethod]
    public void TiedFolderHasNoLmHead()
    {
        string folder = HfCheckpointBuilder.Build(TestData.Path("models", "tiny-llama-tied-F32.gguf"), TestData.ScratchDirectory("hf-tied"));
        using var hf = ModelSource.Open(folder);
        Assert.IsTrue(hf.Config.TiedEmbeddings);
        Assert.IsFalse(hf.TryGetTensor("output.weight", out _));
        Assert.IsNull(hf.Safetensors!.FindTensor("lm_head.weight"));
        hf.ValidateTensors();
    }

    [TestMethod]
    public void MistralFolderLoads()
    {
        string folder = HfCheckpointBuilder.Build(TestData.Path("models", "tiny-llama-F32.gguf"), TestData.ScratchDirectory("hf-mistral"), new(Architecture: ModelArchitecture.Mistral));
        using var hf = ModelSource.Open(folder);
        Assert.AreEqual(ModelArchitecture.Mistral, hf.Config.Architecture);
        Assert.AreEqual(RopeStyle.Neox, hf.Config.RopeStyle);
        hf.ValidateTensors();
    }

    [TestMethod]
    public void OpensFromFilesInsideTheFolderAndFindsTokenizerJson()
    {
        string folder = HfCheckpointBuilder.Build(TestData.Path("models", "tiny-qwen2-F32.gguf"), TestData.ScratchDirectory("hf-paths"));
        foreach (string inside in new[] { "config.json", "model.safetensors" })
        {
            using var m = ModelSource.Open(Path.Combine(folder, inside));
            Assert.AreEqual(ModelFormat.Safetensors, m.Format);
            Assert.IsNull(m.TokenizerJsonPath);
        }
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), "{}");
        using var withTokenizer = ModelSource.Open(folder);
        Assert.AreEqual(Path.Combine(folder, "tokenizer.json"), withTokenizer.TokenizerJsonPath);
    }

    [TestMethod]
    public void MissingOrIncompleteModelsAreTypedErrors()
    {
        string empty = TestData.ScratchDirectory("hf-empty");
        Assert.ThrowsExactly<FileNotFoundException>(() => ModelSource.Open(Path.Combine(empty, "nothing.gguf")));
        Assert.AreEqual("config.json", Assert.ThrowsExactly<GgufFormatException>(() => ModelSource.Open(empty)).Field);
        File.WriteAllText(Path.Combine(empty, "config.json"), HuggingFaceConfigTests.Qwen25);
        Assert.AreEqual("model.safetensors", Assert.ThrowsExactly<GgufFormatException>(() => ModelSource.Open(empty)).Field);
        string notGguf = Path.Combine(empty, "weights.bin");
        File.WriteAllBytes(notGguf, new byte[64]);
        Assert.AreEqual("magic", Assert.ThrowsExactly<GgufFormatException>(() => ModelSource.Open(notGguf)).Field);
    }

    // ---- ValidateTensors on broken models ----

    private static GgufFormatException ValidationFails(ModelSource source, string tensor)
    {
        var e = Assert.ThrowsExactly<GgufFormatException>(source.ValidateTensors);
        StringAssert.StartsWith(e.Field, $"tensor \"{tensor}\"", e.Message);
        return e;
    }

    private static ModelSource OpenImage(GgufImage image)
    {
        string path = Path.Combine(TestData.ScratchDirectory("gguf-image"), "model.gguf");
        File.WriteAllBytes(path, image.ToArray());
        return ModelSource.Open(path);
    }

    [TestMethod]
    public void SyntheticGgufBaselinesValidate()
    {
        using (var llama = OpenImage(GgufImage.Llama())) llama.ValidateTensors();
        using (var qwen = OpenImage(GgufImage.Llama("qwen2"))) qwen.ValidateTensors();
        using (var tied = OpenImage(GgufImage.Llama(tied: true))) tied.ValidateTensors();
    }

    [TestMethod]
    public void GgufWithMissingOrMisshapenTensorsFailsValidation()
    {
        using (var m = OpenImage(GgufImage.Llama().WithoutTensor("blk.1.ffn_down.weight")))
            StringAssert.Contains(ValidationFails(m, "blk.1.ffn_down.weight").Problem, "missing");
        using (var m = OpenImage(GgufImage.Llama().Tensor("blk.0.attn_k.weight", 32, 32)))
            StringAssert.Contains(ValidationFails(m, "blk.0.attn_k.weight").Problem, "[n_embd, n_head_kv·head_dim] = [32, 16]");
        using (var m = OpenImage(GgufImage.Llama().Tensor("blk.0.attn_q.weight", 32, 32, 1)))
            m.ValidateTensors();   // ggml pads shapes with 1s: [32, 32, 1] is [32, 32]
        using (var m = OpenImage(GgufImage.Llama().Tensor("token_embd.weight", 32, 17)))
            ValidationFails(m, "token_embd.weight");
        using (var m = OpenImage(GgufImage.Llama("qwen2").WithoutTensor("blk.0.attn_v.bias")))
            ValidationFails(m, "blk.0.attn_v.bias");
        using (var m = OpenImage(GgufImage.Llama().Tensor("rope_freqs.weight", 8)))
            ValidationFails(m, "rope_freqs.weight");
        using (var m = OpenImage(GgufImage.Llama().Tensor("rope_freqs.weight", 4)))
            m.ValidateTensors();
    }

    [TestMethod]
    public void HuggingFaceFolderWithBrokenTensorsFailsValidation()
    {
        string folder = HfCheckpointBuilder.Build(TestData.Path("models", "tiny-llama-F32.gguf"), TestData.ScratchDirectory("hf-broken"));
        string weights = Path.Combine(folder, "model.safetensors");
        var original = File.ReadAllBytes(weights);

        void Rewrite(Action<Gguf.Safetensors.SafetensorsWriter, string, TensorView> add)
        {
            using var src = Gguf.Safetensors.SafetensorsFile.FromBytes((byte[])original.Clone());
            var w = new Gguf.Safetensors.SafetensorsWriter();
            foreach (var t in src.Tensors) add(w, t.Name, src.GetTensorView(t));
            w.Write(weights);
        }

        Rewrite((w, name, v) => { if (name != "model.layers.1.mlp.up_proj.weight") w.AddView(name, v); });
        using (var m = ModelSource.Open(folder))
        {
            var e = ValidationFails(m, "blk.1.ffn_up.weight");
            StringAssert.Contains(e.Field, "model.layers.1.mlp.up_proj.weight");
        }

        Rewrite((w, name, v) =>
        {
            if (name == "model.layers.0.self_attn.q_proj.weight") w.AddF32(name, new float[256 * 128], 128, 256);
            else w.AddView(name, v);
        });
        using (var m = ModelSource.Open(folder))
            Assert.AreEqual(weights, ValidationFails(m, "blk.0.attn_q.weight").FileName);

        Rewrite((w, name, v) =>
        {
            if (name == "model.norm.weight") w.Add(name, "I32", [256], new byte[1024]);
            else w.AddView(name, v);
        });
        using (var m = ModelSource.Open(folder))
            StringAssert.Contains(Assert.ThrowsExactly<GgufFormatException>(m.ValidateTensors).Problem, "unsupported dtype I32");

        Rewrite((w, name, v) => { if (name != "lm_head.weight") w.AddView(name, v); });
        using (var m = ModelSource.Open(folder))
            StringAssert.Contains(ValidationFails(m, "output.weight").Problem, "not tied");
    }
}
