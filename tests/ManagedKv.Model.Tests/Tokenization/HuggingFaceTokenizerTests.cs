using System.Text.Json.Nodes;
using ManagedKv.Gguf;
using ManagedKv.Model.Tokenization;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Tokenization;

/// <summary>
/// <see cref="ModelTokenizer.FromHuggingFace"/> on tokenizer.json files written by the tests: two rebuilt from
/// llama.cpp's GPT-2 and Llama (SPM) vocabularies, which must reproduce llama.cpp's test vectors, and a small
/// hand-made Llama-3-style file for the pre-tokenizer, ignore_merges and BOS/EOG handling.
/// </summary>
[TestClass]
public sealed class HuggingFaceTokenizerTests
{
    [TestMethod]
    public void Gpt2TokenizerJsonMatchesLlamaCpp()
    {
        using var gguf = GgufFile.Open(VocabTestVectors.GgufPath("gpt-2"));
        string[] tokens = gguf.GetArray("tokenizer.ggml.tokens")!.ToStringArray();
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 50256, ["content"] = "<|endoftext|>", ["special"] = true }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["vocab"] = Vocab(tokens),
                ["merges"] = new JsonArray(gguf.GetArray("tokenizer.ggml.merges")!.ToStringArray().Select(m => (JsonNode)m!).ToArray()),
            },
        };
        var tokenizer = ModelTokenizer.FromHuggingFace(Write("gpt2", json));

        Assert.AreEqual("gpt2", tokenizer.Model);
        Assert.AreEqual("gpt-2", tokenizer.PreTokenizer);
        Assert.IsFalse(tokenizer.AddBos);
        Assert.AreEqual(50256, tokenizer.EosId);
        Assert.AreEqual(TokenAttributes.Control, tokenizer.Attributes(50256));
        AssertMatchesTestVectors(tokenizer, "gpt-2");
    }

    [TestMethod]
    public void SentencePieceStyleTokenizerJsonMatchesLlamaCpp()
    {
        // A Llama-2 tokenizer.json as transformers' LlamaConverter writes it: BPE with byte_fallback, merges
        // derived from the SentencePiece pieces (every split into two pieces, ordered by the piece's score).
        using var gguf = GgufFile.Open(VocabTestVectors.GgufPath("llama-spm"));
        string[] tokens = gguf.GetArray("tokenizer.ggml.tokens")!.ToStringArray();
        float[] scores = gguf.GetArray("tokenizer.ggml.scores")!.ToSingleArray();
        int[] types = gguf.GetArray("tokenizer.ggml.token_type")!.ToInt32Array();
        var ids = tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        var merges = new List<(string Left, string Right, float Score)>();
        for (int id = 0; id < tokens.Length; id++)
        {
            if (types[id] != 1) continue;
            string piece = tokens[id];
            var local = new List<(string, string, float)>();
            for (int split = 1; split < piece.Length; split++)
                if (ids.ContainsKey(piece[..split]) && ids.ContainsKey(piece[split..])) local.Add((piece[..split], piece[split..], scores[id]));
            merges.AddRange(local.OrderBy(m => ids[m.Item1]).ThenBy(m => ids[m.Item2]));
        }
        var ordered = merges.OrderByDescending(m => m.Score).Select(m => (JsonNode)$"{m.Left} {m.Right}"!).ToArray();

        var json = new JsonObject
        {
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = 0, ["content"] = "<unk>", ["special"] = true },
                new JsonObject { ["id"] = 1, ["content"] = "<s>", ["special"] = true },
                new JsonObject { ["id"] = 2, ["content"] = "</s>", ["special"] = true }),
            ["normalizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            },
            ["pre_tokenizer"] = null,
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<s>", ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
            },
            ["decoder"] = new JsonObject { ["type"] = "Sequence", ["decoders"] = new JsonArray(new JsonObject { ["type"] = "ByteFallback" }) },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["unk_token"] = "<unk>",
                ["byte_fallback"] = true,
                ["fuse_unk"] = true,
                ["vocab"] = Vocab(tokens),
                ["merges"] = new JsonArray(ordered),
            },
        };
        var tokenizer = ModelTokenizer.FromHuggingFace(Write("llama2", json));

        Assert.AreEqual("llama", tokenizer.Model);
        Assert.IsTrue(tokenizer.AddBos);
        Assert.AreEqual(1, tokenizer.BosId);
        Assert.AreEqual(2, tokenizer.EosId);
        Assert.AreEqual(0, tokenizer.UnknownId);
        Assert.AreEqual(TokenAttributes.Byte, tokenizer.Attributes(3 + 0x0A));
        CollectionAssert.AreEqual(new[] { 1, 15043, 3186 }, tokenizer.Encode("Hello world"));
        AssertMatchesTestVectors(tokenizer, "llama-spm");
    }

    [TestMethod]
    public void Llama3StyleTokenizerJson()
    {
        string dir = WriteLlama3Style(out var ids);
        var tokenizer = ModelTokenizer.FromHuggingFace(Path.Combine(dir, "tokenizer.json"));

        Assert.AreEqual("gpt2", tokenizer.Model);
        Assert.AreEqual("llama-bpe", tokenizer.PreTokenizer);
        Assert.IsTrue(tokenizer.AddBos);
        Assert.AreEqual(ids["<|begin_of_text|>"], tokenizer.BosId);
        Assert.AreEqual(ids["<|end_of_text|>"], tokenizer.EosId);
        Assert.IsTrue(tokenizer.IsEndOfGeneration(ids["<|eot_id|>"]));
        Assert.IsTrue(tokenizer.IsEndOfGeneration(ids["<|end_of_text|>"]));
        Assert.IsFalse(tokenizer.IsEndOfGeneration(ids["<|begin_of_text|>"]));

        // "Ġworld" has no merges leading to it: only llama.cpp's ignore_merges (Llama 3) finds it.
        CollectionAssert.AreEqual(new[] { ids["<|begin_of_text|>"], ids["Hello"], ids["Ġworld"] }, tokenizer.Encode("Hello world"));
        // \p{N}{1,3}: "12345" is pre-split into "123" and "45", so the merge "3 4" never applies.
        CollectionAssert.AreEqual(new[] { ids["12"], ids["3"], ids["45"] }, tokenizer.Encode("12345", addSpecial: false));
        CollectionAssert.AreEqual(new[] { ids["Hello"], ids["<|eot_id|>"] }, tokenizer.Encode("Hello<|eot_id|>", addSpecial: false, parseSpecial: true));
        Assert.AreEqual("Hello world", tokenizer.Decode(tokenizer.Encode("Hello world"), skipSpecial: true));
    }

    [TestMethod]
    public void TokenizerConfigOverridesSpecialTokens()
    {
        string dir = WriteLlama3Style(out var ids);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"),
            """{ "add_bos_token": false, "add_eos_token": true, "eos_token": { "content": "<|eot_id|>" } }""");
        var tokenizer = ModelTokenizer.FromHuggingFace(Path.Combine(dir, "tokenizer.json"));
        Assert.IsFalse(tokenizer.AddBos);
        Assert.IsTrue(tokenizer.AddEos);
        Assert.AreEqual(ids["<|eot_id|>"], tokenizer.EosId);
        CollectionAssert.AreEqual(new[] { ids["Hello"], ids["<|eot_id|>"] }, tokenizer.Encode("Hello"));
    }

    [TestMethod]
    [DataRow("WordPiece")]
    [DataRow("Unigram")]
    [DataRow("WordLevel")]
    public void UnsupportedModelTypes(string type)
    {
        var json = new JsonObject { ["model"] = new JsonObject { ["type"] = type, ["vocab"] = new JsonObject { ["a"] = 0 } } };
        ExpectError(Write(type, json), "model.type", type);
    }

    [TestMethod]
    public void MalformedFiles()
    {
        string dir = TestData.ScratchDirectory("hf-bad");
        string notJson = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(notJson, "{ \"model\": ");
        Assert.ThrowsExactly<GgufFormatException>(() => ModelTokenizer.FromHuggingFace(notJson));

        ExpectError(Write("nomodel", new JsonObject { ["version"] = "1.0" }), "model", "missing");
        ExpectError(Write("nomerges", ByteLevelJson(new JsonObject { ["a"] = 0 }, null)), "model.merges", "missing");
        ExpectError(Write("gap", ByteLevelJson(new JsonObject { ["a"] = 0, ["b"] = 2 }, new JsonArray())), "model.vocab", "id 1");
        ExpectError(Write("badmerge", ByteLevelJson(new JsonObject { ["a"] = 0, ["b"] = 1 }, new JsonArray((JsonNode)"a c"!))), "model.merges", "rejected");
        ExpectError(Write("badid", ByteLevelJson(new JsonObject { ["a"] = "zero" }, new JsonArray())), "model.vocab[\"a\"]", "integer");

        var split = ByteLevelJson(new JsonObject { ["a"] = 0 }, new JsonArray());
        split["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = "\\w+" }, ["behavior"] = "Isolated" },
                new JsonObject { ["type"] = "ByteLevel", ["use_regex"] = false }),
        };
        ExpectError(Write("split", split), "pre_tokenizer", "unsupported split regex");

        var noFallback = ByteLevelJson(new JsonObject { ["a"] = 0 }, new JsonArray());
        noFallback["pre_tokenizer"] = null;
        ExpectError(Write("nofallback", noFallback), "model.byte_fallback", "byte_fallback");
        Assert.ThrowsExactly<FileNotFoundException>(() => ModelTokenizer.FromHuggingFace(Path.Combine(dir, "missing.json")));
    }

    private static void AssertMatchesTestVectors(ModelTokenizer tokenizer, string vocab)
    {
        var failures = new List<string>();
        foreach (var (text, expected) in VocabTestVectors.Cases(vocab))
        {
            int[] actual = tokenizer.Encode(text, addSpecial: false);
            if (!actual.AsSpan().SequenceEqual(expected))
                failures.Add($"{VocabTestVectors.Show(text)}: expected {VocabTestVectors.Show(expected)}, got {VocabTestVectors.Show(actual)}");
        }
        Assert.AreEqual(0, failures.Count, string.Join("\n", failures));
    }

    // A small byte-level vocabulary: the 256 byte characters, a few merged words and Llama 3's special tokens.
    private static string WriteLlama3Style(out Dictionary<string, int> ids)
    {
        var tokens = Enumerable.Range(0, 256).Select(b => ByteLevelEncoding.Encode((byte)b).ToString()).ToList();
        string[] merges = ["H e", "He l", "Hel l", "Hell o", "3 4", "1 2", "4 5", "Ġ w", "o r"];
        foreach (string m in merges) tokens.Add(m.Replace(" ", ""));
        tokens.Add("Ġworld");
        var special = new[] { "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>" };
        var map = tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        var added = new JsonArray();
        foreach (string s in special)
        {
            map[s] = map.Count;
            added.Add(new JsonObject { ["id"] = map[s], ["content"] = s, ["special"] = true });
        }
        ids = map;

        var vocab = new JsonObject();
        foreach (var (text, id) in map.Where(kv => !special.Contains(kv.Key))) vocab[text] = id;
        var json = ByteLevelJson(vocab, new JsonArray(merges.Select(m => (JsonNode)m!).ToArray()));
        json["added_tokens"] = added;
        json["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "Split",
                    ["pattern"] = new JsonObject { ["Regex"] = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+" },
                    ["behavior"] = "Isolated",
                    ["invert"] = false,
                },
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
        };
        json["post_processor"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["processors"] = new JsonArray(
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
                new JsonObject
                {
                    ["type"] = "TemplateProcessing",
                    ["single"] = new JsonArray(
                        new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["type_id"] = 0 } },
                        new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                }),
        };
        return Path.GetDirectoryName(Write("llama3", json))!;
    }

    private static JsonObject ByteLevelJson(JsonObject vocab, JsonArray? merges)
    {
        var model = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab };
        if (merges is not null) model["merges"] = merges;
        return new JsonObject
        {
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true },
            ["model"] = model,
        };
    }

    private static JsonObject Vocab(string[] tokens)
    {
        var vocab = new JsonObject();
        for (int i = 0; i < tokens.Length; i++) vocab[tokens[i]] = i;
        return vocab;
    }

    private static string Write(string name, JsonObject json)
    {
        string path = Path.Combine(TestData.ScratchDirectory("hf-" + name), "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private static void ExpectError(string path, string field, string problemPart)
    {
        var e = Assert.ThrowsExactly<GgufFormatException>(() => ModelTokenizer.FromHuggingFace(path));
        Assert.AreEqual(path, e.FileName);
        StringAssert.Contains(e.Field, field);
        StringAssert.Contains(e.Message, problemPart);
    }
}
