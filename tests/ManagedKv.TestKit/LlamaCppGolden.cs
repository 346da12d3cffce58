using System.Runtime.InteropServices;
using System.Text.Json;

namespace ManagedKv.TestKit;

/// <summary>
/// llama.cpp's reference outputs for one test model (testdata/golden/&lt;model&gt;.json and logits/*.bin; see
/// testdata/golden/README.md): final-position logits for four prompts and 48-token greedy continuations, each
/// for the <c>default</c> variant (flash attention, f16 cache) and the <c>f32_attention</c> variant (f32 cache,
/// no flash attention) that an f32 engine should match.
/// </summary>
public sealed class LlamaCppGolden
{
    /// <summary>Model file names (without .gguf) that have goldens, stories260K first.</summary>
    public static readonly string[] Models =
    [
        "stories260K", "tiny-llama-F32", "tiny-llama-F16", "tiny-llama-BF16", "tiny-llama-Q8_0", "tiny-llama-Q4_0",
        "tiny-llama-Q4_1", "tiny-llama-Q5_0", "tiny-llama-Q5_1", "tiny-llama-Q4_K_M", "tiny-llama-Q5_K_M",
        "tiny-llama-Q6_K", "tiny-llama-Q2_K", "tiny-llama-Q3_K_M", "tiny-llama-tied-F32", "tiny-llama-tied-Q8_0",
        "tiny-qwen2-F32", "tiny-qwen2-Q8_0",
    ];

    /// <summary>The four prompt ids.</summary>
    public static readonly string[] PromptIds = ["bos", "once", "girl", "story"];

    private readonly JsonElement _root;

    private LlamaCppGolden(string model, JsonElement root)
    {
        Model = model;
        _root = root;
    }

    /// <summary>Model name, e.g. <c>tiny-llama-Q4_0</c>.</summary>
    public string Model { get; }

    /// <summary>Path of the model file under testdata/.</summary>
    public string ModelPath => Model == "stories260K" ? TestData.Path("stories260K.gguf") : TestData.Path("models", Model + ".gguf");

    /// <summary>Per-tensor ggml type names recorded by the producer.</summary>
    public IReadOnlyDictionary<string, string> TensorTypes =>
        _root.GetProperty("tensor_types").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

    /// <summary>Loads the golden of <paramref name="model"/>.</summary>
    public static LlamaCppGolden Load(string model)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Path("golden", model + ".json")));
        return new LlamaCppGolden(model, doc.RootElement.Clone());
    }

    /// <summary>The prompt's token ids (BOS included).</summary>
    public int[] PromptTokens(string promptId) => Prompt(promptId).GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>The prompt's text.</summary>
    public string PromptText(string promptId) => Prompt(promptId).GetProperty("text").GetString()!;

    /// <summary>llama.cpp's final-position logits; <paramref name="f32Attention"/> picks the f32-cache variant.</summary>
    public float[] Logits(string promptId, bool f32Attention = true)
    {
        var p = Prompt(promptId);
        string file = (f32Attention ? p.GetProperty("f32_attention") : p).GetProperty("logits_file").GetString()!;
        byte[] bytes = File.ReadAllBytes(Path.Combine(TestData.Directory, "golden", file));
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    /// <summary>The greedy continuation of the <c>girl</c> prompt.</summary>
    public GreedyRun Greedy(bool ignoreEos, bool f32Attention = true)
    {
        var g = _root.GetProperty("greedy");
        var run = g.GetProperty(ignoreEos ? "ignore_eos" : "natural");
        if (f32Attention) run = run.GetProperty("f32_attention");
        return new GreedyRun(
            g.GetProperty("prompt_id").GetString()!,
            run.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            run.GetProperty("top1_top2_margins").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
            run.GetProperty("text").GetString()!,
            run.GetProperty("stopped_at_eog").GetBoolean());
    }

    private JsonElement Prompt(string id) =>
        _root.GetProperty("prompts").EnumerateArray().First(p => p.GetProperty("id").GetString() == id);

    /// <summary>One greedy run: generated ids (a final EOS included when it stopped there) and per-step top-1/top-2 margins.</summary>
    public sealed record GreedyRun(string PromptId, int[] TokenIds, double[] Margins, string Text, bool StoppedAtEog);
}
