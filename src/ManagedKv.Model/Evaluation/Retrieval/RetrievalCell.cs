using System.Globalization;
using System.Text.Json.Serialization;
using ManagedKv.Model.Evaluation.Results;

namespace ManagedKv.Model.Evaluation.Retrieval;

/// <summary>One retrieval prompt under one press setting, with the model's greedy answer and its scores.</summary>
/// <param name="Setting">The press setting's key.</param>
/// <param name="Press">Press or composition name.</param>
/// <param name="Compression">Requested ratio (null: ignored by the presses).</param>
/// <param name="Words">Filler words.</param>
/// <param name="Depth">Needle depth in [0, 1].</param>
/// <param name="Sample">Key index within the grid cell.</param>
/// <param name="PromptTokens">Prompt length in tokens (BOS included).</param>
/// <param name="Answer">The key.</param>
/// <param name="Response">The greedy continuation, decoded.</param>
/// <param name="ExactMatch">The normalised key occurs in the normalised response.</param>
/// <param name="PartialMatch">Longest common substring / key length.</param>
/// <param name="CacheBytes">Cache bytes after the prompt's prefill (and its compression).</param>
/// <param name="FullCacheBytes">Uncompressed cache bytes for the same positions.</param>
public sealed record RetrievalCell(string Setting, string Press, double? Compression, int Words, double Depth, int Sample, int PromptTokens,
    string Answer, string Response, bool ExactMatch, double PartialMatch, long CacheBytes, long FullCacheBytes) : IEvalCell
{
    /// <inheritdoc/>
    [JsonIgnore]
    public string Key => KeyOf(Setting, Words, Depth, Sample);

    /// <summary>The key of a cell.</summary>
    public static string KeyOf(string setting, int words, double depth, int sample) =>
        $"{setting}|{words} words|depth {depth.ToString("R", CultureInfo.InvariantCulture)}|sample {sample}";
}
