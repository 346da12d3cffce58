using System.Collections.Concurrent;
using ManagedKv.Gguf;
using ManagedKv.Model.Tokenization;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Tokenization;

/// <summary>
/// llama.cpp's tokenizer test vectors (testdata/vocab/ggml-vocab-*.gguf with .inp/.out, read as
/// tests/test-tokenizer-0.cpp does) and a per-process cache of the tokenizers built from them.
/// </summary>
internal static class VocabTestVectors
{
    public const string Separator = "\n__ggml_vocab_test__\n";

    /// <summary>The seven vocabularies shipped with the test data.</summary>
    public static readonly string[] Names = ["llama-spm", "phi-3", "gpt-2", "deepseek-coder", "deepseek-llm", "falcon", "starcoder"];

    private static readonly ConcurrentDictionary<string, Lazy<ModelTokenizer>> Tokenizers = new();

    public static string GgufPath(string name) => TestData.Path("vocab", $"ggml-vocab-{name}.gguf");

    /// <summary>Tokenizer for a vocabulary, built once per test run.</summary>
    public static ModelTokenizer Tokenizer(string name) => Tokenizers.GetOrAdd(name, n => new Lazy<ModelTokenizer>(() =>
    {
        using var file = GgufFile.Open(GgufPath(n));
        return ModelTokenizer.FromGguf(file);
    })).Value;

    /// <summary>The stories260K tokenizer (shared by every model file in testdata).</summary>
    public static ModelTokenizer Stories => Tokenizers.GetOrAdd("stories260K", _ => new Lazy<ModelTokenizer>(() =>
    {
        using var file = GgufFile.Open(TestData.Path("stories260K.gguf"));
        return ModelTokenizer.FromGguf(file);
    })).Value;

    /// <summary>The (text, expected ids) cases of a vocabulary.</summary>
    public static IReadOnlyList<(string Text, int[] Ids)> Cases(string name)
    {
        string inp = File.ReadAllText(GgufPath(name) + ".inp");
        string[] texts = inp.Split(Separator);
        Assert.AreEqual("", texts[^1], "the .inp file must end with the separator");
        texts = texts[..^1];

        string[] lines = File.ReadAllText(GgufPath(name) + ".out").Split('\n');
        if (lines[^1] == "" && lines.Length == texts.Length + 1) lines = lines[..^1];
        Assert.AreEqual(texts.Length, lines.Length, $"{name}: .inp has {texts.Length} cases, .out {lines.Length} lines");

        var cases = new List<(string, int[])>(texts.Length);
        for (int i = 0; i < texts.Length; i++)
        {
            int[] ids = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            cases.Add((texts[i], ids));
        }
        return cases;
    }

    /// <summary>A case's text as a readable C#-style literal for failure messages.</summary>
    public static string Show(string text) => System.Text.Json.JsonSerializer.Serialize(text, ShowOptions);

    private static readonly System.Text.Json.JsonSerializerOptions ShowOptions =
        new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Show(IEnumerable<int> ids) => "[" + string.Join(", ", ids) + "]";
}
