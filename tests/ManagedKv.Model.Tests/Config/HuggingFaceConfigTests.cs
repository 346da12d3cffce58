using ManagedKv.Gguf;
using ManagedKv.Model.Config;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Config;

/// <summary>
/// ModelConfig from config.json. The samples are the published configs of Llama-3.2-1B,
/// Mistral-7B-v0.1 and Qwen2.5-0.5B (trimmed of fields ManagedKv ignores), so the expected values
/// are the real models' hyper-parameters.
/// </summary>
[TestClass]
public sealed class HuggingFaceConfigTests
{
    public const string Llama32 = """
        {
          "architectures": ["LlamaForCausalLM"],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": 128000,
          "eos_token_id": 128001,
          "head_dim": 64,
          "hidden_act": "silu",
          "hidden_size": 2048,
          "initializer_range": 0.02,
          "intermediate_size": 8192,
          "max_position_embeddings": 131072,
          "mlp_bias": false,
          "model_type": "llama",
          "num_attention_heads": 32,
          "num_hidden_layers": 16,
          "num_key_value_heads": 8,
          "pretraining_tp": 1,
          "rms_norm_eps": 1e-05,
          "rope_scaling": {
            "factor": 32.0,
            "high_freq_factor": 4.0,
            "low_freq_factor": 1.0,
            "original_max_position_embeddings": 8192,
            "rope_type": "llama3"
          },
          "rope_theta": 500000.0,
          "tie_word_embeddings": true,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.45.0.dev0",
          "use_cache": true,
          "vocab_size": 128256
        }
        """;

    public const string Mistral7B = """
        {
          "architectures": ["MistralForCausalLM"],
          "bos_token_id": 1,
          "eos_token_id": 2,
          "hidden_act": "silu",
          "hidden_size": 4096,
          "initializer_range": 0.02,
          "intermediate_size": 14336,
          "max_position_embeddings": 32768,
          "model_type": "mistral",
          "num_attention_heads": 32,
          "num_hidden_layers": 32,
          "num_key_value_heads": 8,
          "rms_norm_eps": 1e-05,
          "rope_theta": 10000.0,
          "sliding_window": 4096,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "use_cache": true,
          "vocab_size": 32000
        }
        """;

    public const string Qwen25 = """
        {
          "architectures": ["Qwen2ForCausalLM"],
          "attention_dropout": 0.0,
          "bos_token_id": 151643,
          "eos_token_id": 151643,
          "hidden_act": "silu",
          "hidden_size": 896,
          "initializer_range": 0.02,
          "intermediate_size": 4864,
          "max_position_embeddings": 32768,
          "max_window_layers": 24,
          "model_type": "qwen2",
          "num_attention_heads": 14,
          "num_hidden_layers": 24,
          "num_key_value_heads": 2,
          "rms_norm_eps": 1e-06,
          "rope_theta": 1000000.0,
          "sliding_window": 32768,
          "tie_word_embeddings": true,
          "torch_dtype": "bfloat16",
          "use_cache": true,
          "use_sliding_window": false,
          "vocab_size": 151936
        }
        """;

    private static string Write(string json, string purpose = "hf-config")
    {
        string dir = TestData.ScratchDirectory(purpose);
        string path = Path.Combine(dir, "config.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static ModelConfig Read(string json) => ModelConfig.FromHuggingFace(Write(json));

    [TestMethod]
    public void Llama32WithLlama3RopeScaling()
    {
        var c = Read(Llama32);
        Assert.AreEqual(ModelArchitecture.Llama, c.Architecture);
        Assert.AreEqual(128256, c.VocabSize);
        Assert.AreEqual(2048, c.EmbeddingLength);
        Assert.AreEqual(16, c.BlockCount);
        Assert.AreEqual(32, c.HeadCount);
        Assert.AreEqual(8, c.KvHeadCount);
        Assert.AreEqual(64, c.HeadDim);
        Assert.AreEqual(64, c.ValueHeadDim);
        Assert.AreEqual(8192, c.FeedForwardLength);
        Assert.AreEqual(131072, c.ContextLength);
        Assert.AreEqual(500000f, c.RopeFreqBase);
        Assert.AreEqual(64, c.RopeDimensionCount);
        Assert.AreEqual(RopeStyle.Neox, c.RopeStyle);   // unpermuted HF weights
        Assert.AreEqual(new RopeScaling.Llama3(32f, 1f, 4f, 8192), c.RopeScaling);
        Assert.AreEqual(1e-5f, c.RmsNormEps);
        Assert.IsTrue(c.TiedEmbeddings);
        Assert.IsNull(c.SlidingWindow);
    }

    [TestMethod]
    public void Mistral7BNotesSlidingWindow()
    {
        var c = Read(Mistral7B);
        Assert.AreEqual(ModelArchitecture.Mistral, c.Architecture);
        Assert.AreEqual(32000, c.VocabSize);
        Assert.AreEqual(4096, c.EmbeddingLength);
        Assert.AreEqual(32, c.BlockCount);
        Assert.AreEqual(32, c.HeadCount);
        Assert.AreEqual(8, c.KvHeadCount);
        Assert.AreEqual(128, c.HeadDim);               // no head_dim: 4096 / 32
        Assert.AreEqual(14336, c.FeedForwardLength);
        Assert.AreEqual(32768, c.ContextLength);
        Assert.AreEqual(10000f, c.RopeFreqBase);
        Assert.AreEqual(RopeStyle.Neox, c.RopeStyle);
        Assert.AreEqual(RopeScaling.None, c.RopeScaling);
        Assert.AreEqual(1e-5f, c.RmsNormEps);
        Assert.IsFalse(c.TiedEmbeddings);
        Assert.AreEqual(4096, c.SlidingWindow);
        Assert.IsFalse(c.HasQkvBias);
    }

    [TestMethod]
    public void Qwen25ZeroPointFiveB()
    {
        var c = Read(Qwen25);
        Assert.AreEqual(ModelArchitecture.Qwen2, c.Architecture);
        Assert.AreEqual(151936, c.VocabSize);
        Assert.AreEqual(896, c.EmbeddingLength);
        Assert.AreEqual(24, c.BlockCount);
        Assert.AreEqual(14, c.HeadCount);
        Assert.AreEqual(2, c.KvHeadCount);
        Assert.AreEqual(64, c.HeadDim);
        Assert.AreEqual(4864, c.FeedForwardLength);
        Assert.AreEqual(32768, c.ContextLength);
        Assert.AreEqual(1000000f, c.RopeFreqBase);
        Assert.AreEqual(RopeStyle.Neox, c.RopeStyle);
        Assert.AreEqual(1e-6f, c.RmsNormEps);
        Assert.IsTrue(c.TiedEmbeddings);
        Assert.IsTrue(c.HasQkvBias);
        Assert.IsNull(c.SlidingWindow);                 // use_sliding_window: false
    }

    [TestMethod]
    public void DefaultsOfTheTransformersConfigClasses()
    {
        var c = Read("""
            {"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 4, "vocab_size": 100, "head_dim": null, "rope_scaling": null}
            """);
        Assert.AreEqual(ModelArchitecture.Qwen2, c.Architecture);
        Assert.AreEqual(4, c.KvHeadCount);
        Assert.AreEqual(16, c.HeadDim);
        Assert.AreEqual(32768, c.ContextLength);
        Assert.AreEqual(10000f, c.RopeFreqBase);
        Assert.AreEqual(1e-6f, c.RmsNormEps);
        Assert.IsFalse(c.TiedEmbeddings);
        Assert.AreEqual(RopeScaling.None, c.RopeScaling);
    }

    [TestMethod]
    public void LinearScalingAndLegacyTypeKey()
    {
        var c = Read(Mistral7B.Replace("\"rope_theta\": 10000.0,", "\"rope_theta\": 10000.0, \"rope_scaling\": {\"type\": \"linear\", \"factor\": 4},"));
        Assert.AreEqual(new RopeScaling.Linear(4f), c.RopeScaling);
    }

    [TestMethod]
    public void TransformersV5RopeParameters()
    {
        string json = Llama32.Replace("\"rope_theta\": 500000.0,", "")
            .Replace("\"rope_scaling\": {", "\"rope_parameters\": {\"rope_theta\": 500000.0, ");
        var c = Read(json);
        Assert.AreEqual(500000f, c.RopeFreqBase);
        Assert.AreEqual(new RopeScaling.Llama3(32f, 1f, 4f, 8192), c.RopeScaling);
    }

    [TestMethod]
    public void FolderPathFindsConfigJson()
    {
        string path = Write(Qwen25);
        Assert.AreEqual(896, ModelConfig.FromHuggingFace(Path.GetDirectoryName(path)!).EmbeddingLength);
    }

    // ---- hostile config.json ----

    private static GgufFormatException Rejects(string json, string field)
    {
        string path = Write(json, "hf-config-bad");
        var e = Assert.ThrowsExactly<GgufFormatException>(() => ModelConfig.FromHuggingFace(path));
        Assert.AreEqual(path, e.FileName);
        Assert.AreEqual(field, e.Field, e.Message);
        StringAssert.Contains(e.Message, "config.json");
        return e;
    }

    /// <summary>Removes the line holding <paramref name="field"/> (and a comma it leaves dangling before the closing brace).</summary>
    private static string Drop(string json, string field) =>
        System.Text.RegularExpressions.Regex.Replace(
            string.Join('\n', json.Split('\n').Where(l => !l.TrimStart().StartsWith($"\"{field}\"", StringComparison.Ordinal))),
            @",(\s*)\}\s*$", "$1}");

    [TestMethod]
    [DataRow("hidden_size")]
    [DataRow("intermediate_size")]
    [DataRow("num_hidden_layers")]
    [DataRow("num_attention_heads")]
    [DataRow("vocab_size")]
    public void MissingShapeFieldIsNamed(string field) =>
        StringAssert.Contains(Rejects(Drop(Mistral7B, field), field).Problem, "missing");

    [TestMethod]
    public void NotJsonReportsTheByteOffset()
    {
        string json = "{\n  \"hidden_size\": 64,\n  \"vocab_size\": @\n}";
        var e = Rejects(json, "<json>");
        Assert.AreEqual(json.IndexOf('@'), e.Offset);
    }

    [TestMethod]
    public void DuplicateKeyReportsTheByteOffsetOfTheSecondOne()
    {
        string json = "{\n  \"rope_scaling\": {\"factor\": 2, \"rope_type\": \"linear\", \"factor\": 4}\n}";
        var e = Rejects(json, "<json>");
        Assert.AreEqual(json.LastIndexOf("\"factor\"", StringComparison.Ordinal), e.Offset);
        StringAssert.Contains(e.Problem, "duplicate key \"factor\"");
    }

    [TestMethod]
    [DataRow("", "<json>")]
    [DataRow("[1, 2]", "<root>")]
    [DataRow("{\"hidden_size\": 64, \"hidden_size\": 128}", "<json>")]
    [DataRow("{\"model_type\": \"llama\",}", "<json>")]
    [DataRow("{\"model_type\": \"llama\"} {}", "<json>")]
    [DataRow("{\"model_type\": \"llama\" /* c */}", "<json>")]
    public void MalformedJsonIsRejected(string json, string field) => Rejects(json, field);

    [TestMethod]
    public void WrongTypesAndValuesAreNamed()
    {
        Rejects(Mistral7B.Replace("\"hidden_size\": 4096", "\"hidden_size\": \"4096\""), "hidden_size");
        Rejects(Mistral7B.Replace("\"hidden_size\": 4096", "\"hidden_size\": 4096.5"), "hidden_size");
        Rejects(Mistral7B.Replace("\"hidden_size\": 4096", "\"hidden_size\": 1e300"), "hidden_size");
        Rejects(Mistral7B.Replace("\"num_hidden_layers\": 32", "\"num_hidden_layers\": -1"), "num_hidden_layers");
        Rejects(Mistral7B.Replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 5"), "num_key_value_heads");
        Rejects(Mistral7B.Replace("\"num_attention_heads\": 32", "\"num_attention_heads\": 48"), "hidden_size");
        Rejects(Mistral7B.Replace("\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": 0"), "rms_norm_eps");
        Rejects(Mistral7B.Replace("\"rope_theta\": 10000.0", "\"rope_theta\": -5"), "rope_theta");
        Rejects(Mistral7B.Replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": \"no\""), "tie_word_embeddings");
        Rejects(Mistral7B.Replace("[\"MistralForCausalLM\"]", "\"MistralForCausalLM\""), "architectures");
        Rejects(Mistral7B.Replace("\"sliding_window\": 4096", "\"sliding_window\": 0"), "sliding_window");
    }

    [TestMethod]
    public void UnsupportedModelsAndFeaturesAreRefused()
    {
        Rejects(Mistral7B.Replace("MistralForCausalLM", "GPT2LMHeadModel").Replace("\"mistral\"", "\"gpt2\""), "architectures");
        Rejects(Drop(Drop(Mistral7B, "architectures"), "model_type"), "architectures");
        Rejects(Mistral7B.Replace("MistralForCausalLM", "MistralForSequenceClassification"), "architectures");
        Rejects(Drop(Mistral7B, "architectures").Replace("\"mistral\"", "\"gpt2\""), "model_type");
        Assert.AreEqual(ModelArchitecture.Mistral, Read(Drop(Mistral7B, "architectures")).Architecture);
        Rejects(Mistral7B.Replace("\"silu\"", "\"gelu\""), "hidden_act");
        Rejects(Llama32.Replace("\"attention_bias\": false", "\"attention_bias\": true"), "attention_bias");
        Rejects(Llama32.Replace("\"mlp_bias\": false", "\"mlp_bias\": true"), "mlp_bias");
    }

    [TestMethod]
    public void BadRopeScalingIsNamed()
    {
        Rejects(Llama32.Replace("\"llama3\"", "\"yarn\""), "rope_scaling.rope_type");
        Rejects(Llama32.Replace("\"rope_type\": \"llama3\"", "\"kind\": \"llama3\""), "rope_scaling.rope_type");
        Rejects(Llama32.Replace("\"low_freq_factor\": 1.0,", ""), "rope_scaling.low_freq_factor");
        Rejects(Llama32.Replace("\"original_max_position_embeddings\": 8192,", ""), "rope_scaling.original_max_position_embeddings");
        Rejects(Llama32.Replace("\"high_freq_factor\": 4.0", "\"high_freq_factor\": 0.5"), "rope_scaling.high_freq_factor");
        Rejects(Llama32.Replace("\"factor\": 32.0", "\"factor\": 0"), "rope_scaling.factor");
        Rejects(Llama32.Replace("\"original_max_position_embeddings\": 8192", "\"original_max_position_embeddings\": -1"), "rope_scaling.original_max_position_embeddings");
        Rejects(Llama32.Replace("\"rope_scaling\": {", "\"rope_scaling\": [{").Replace("\"rope_type\": \"llama3\"\n  }", "\"rope_type\": \"llama3\"\n  }]"), "rope_scaling");
    }

    [TestMethod]
    public void MissingFileIsFileNotFound() =>
        Assert.ThrowsExactly<FileNotFoundException>(() => ModelConfig.FromHuggingFace(Path.Combine(TestData.ScratchDirectory("hf-none"), "config.json")));
}
