using System.Text.Json.Nodes;
using ManagedKv.Model.Evaluation.Fidelity;
using ManagedKv.Model.Evaluation.Results;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Evaluation;

/// <summary>Result files: the same run writes the same bytes; a partial file resumes with only the missing cells computed.</summary>
[TestClass]
public sealed class ResultStoreTests
{
    private static readonly FidelityOptions Options = new() { ContextTokens = 24, ContinuationTokens = 8, MaxWindows = 2 };

    private static EvalSettings Settings(IReadOnlyList<PressConfiguration> presses, int seed = 0) =>
        new("fidelity", "test", "stories260K.gguf", "sha", "reference", seed, EvalSettings.Describe(presses),
            new SortedDictionary<string, string>(StringComparer.Ordinal) { ["context"] = "24" });

    private static int Run(string path, IReadOnlyList<PressConfiguration> presses, List<string>? computed = null)
    {
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        var tokenizer = source.CreateTokenizer();
        using var backend = new ReferenceBackend();
        using var model = new Transformer(source, backend);
        var windows = TextWindows.Cut(tokenizer.Encode(File.ReadAllText(TestData.Path("golden", "stories-text.txt"))), Options.WindowTokens, tokenizer.BosId, Options.MaxWindows);
        var store = ResultStore<FidelityCell>.Open(path, Settings(presses));
        return store.Fill(new FidelityEvaluator(model, Options).Plan(windows, presses), p => { if (p.Current.Length > 0) computed?.Add(p.Current); });
    }

    private static IReadOnlyList<PressConfiguration> Presses() =>
        PressConfiguration.Expand(["streaming_llm", "random", "kivi"], [0.0, 0.5], new Dictionary<string, string>(), seed: 3);

    [TestMethod]
    public void SameRunWritesIdenticalJsonAndPartialFilesResume()
    {
        string folder = Directory.CreateTempSubdirectory("managedkv-store-").FullName;
        try
        {
            string a = Path.Combine(folder, "a.json"), b = Path.Combine(folder, "b.json");
            var presses = Presses();
            Assert.AreEqual(5, presses.Count); // streaming_llm and random at 0 and 0.5; kivi once
            Assert.AreEqual(10, Run(a, presses));
            Assert.AreEqual(10, Run(b, presses));
            CollectionAssert.AreEqual(File.ReadAllBytes(a), File.ReadAllBytes(b));

            // The seeded press records its seed; the cells come in plan order (window 0's settings, then window 1's).
            var root = JsonNode.Parse(File.ReadAllText(a))!;
            Assert.AreEqual("3", (string?)root["settings"]!["presses"]![2]!["parameters"]!["random"]!["seed"]);
            var cells = root["cells"]!.AsArray();
            Assert.AreEqual("streaming_llm@0", (string?)cells[0]!["setting"]);
            Assert.AreEqual(1, (int)cells[9]!["window"]!);

            // Remove three cells as if the run had been interrupted: resuming computes exactly those and restores the file.
            var removed = new[] { 1, 4, 8 }.Select(i => $"{(string?)cells[i]!["setting"]} window {(int)cells[i]!["window"]!}").ToList();
            foreach (int i in new[] { 8, 4, 1 }) cells.RemoveAt(i);
            File.WriteAllText(b, root.ToJsonString());
            var computed = new List<string>();
            Assert.AreEqual(3, Run(b, presses, computed));
            CollectionAssert.AreEqual(removed, computed);
            CollectionAssert.AreEqual(File.ReadAllBytes(a), File.ReadAllBytes(b));

            // Nothing left to do: a complete file computes nothing.
            Assert.AreEqual(0, Run(b, presses));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void DifferentSettingsAreRefusedUnlessFresh()
    {
        string folder = Directory.CreateTempSubdirectory("managedkv-store-").FullName;
        try
        {
            string path = Path.Combine(folder, "r.json");
            var presses = Presses();
            ResultStore<FidelityCell>.Open(path, Settings(presses)).Save();
            var e = Assert.ThrowsExactly<InvalidDataException>(() => ResultStore<FidelityCell>.Open(path, Settings(presses, seed: 1)));
            StringAssert.Contains(e.Message, "seed");
            Assert.AreEqual(0, ResultStore<FidelityCell>.Open(path, Settings(presses, seed: 1), fresh: true).ResumedCount);
            File.WriteAllText(path, "{ not json");
            Assert.ThrowsExactly<InvalidDataException>(() => ResultStore<FidelityCell>.Open(path, Settings(presses)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void PressSpecificationsExpandAndValidate()
    {
        var all = PressConfiguration.Expand(["all"], [0.0, 0.5], new Dictionary<string, string>());
        Assert.AreEqual("full", all[0].Key); // ignores the ratio: once
        Assert.IsTrue(all.Any(c => c.Key == "knorm@0.5"));
        var composed = PressConfiguration.Expand(["lagkv+kivi"], [0.5], new Dictionary<string, string> { ["lag"] = "32" });
        Assert.AreEqual("lagkv+kivi@0.5", composed.Single().Key);
        Assert.AreEqual("32", composed[0].ParameterValues()["lagkv"]["lag"]);
        Assert.ThrowsExactly<ArgumentException>(() => PressConfiguration.Expand(["knorm"], [0.5], new Dictionary<string, string> { ["lag"] = "32" }));
        Assert.ThrowsExactly<ArgumentException>(() => PressConfiguration.Expand(["nope"], [0.5], new Dictionary<string, string>()));
        Assert.ThrowsExactly<ArgumentException>(() => PressConfiguration.Expand(["knorm"], [1.0], new Dictionary<string, string>()));
    }
}
