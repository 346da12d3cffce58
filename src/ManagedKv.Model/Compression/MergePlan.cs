using System.Globalization;
using System.Text;

namespace ManagedKv.Model.Compression;

/// <summary>
/// Cross-layer merge (MiniCache): every KV head of <paramref name="LowerLayer"/> and <paramref name="Layer"/>, which must
/// hold the same tokens, is stored as one shared unit direction per row (SLERP of the two layers' directions at
/// <paramref name="T"/>) plus one magnitude per row and layer; the retained rows stay whole in both layers. Keys and
/// values are merged separately, each with its own retained rows. The cache does the arithmetic when it applies the
/// plan (<see cref="Cache.MergedKvRows"/>); the plan records the decisions.
/// </summary>
/// <param name="Layer">The upper layer of the pair (the one whose prefill just finished).</param>
/// <param name="LowerLayer">The lower layer of the pair (already final).</param>
/// <param name="T">SLERP parameter: 0 gives the lower layer's direction, 1 the upper layer's.</param>
/// <param name="RetainedKeys">[kvHeads][retained] strictly increasing token indices whose keys stay unmerged.</param>
/// <param name="RetainedValues">[kvHeads][retained] strictly increasing token indices whose values stay unmerged.</param>
public sealed record MergePlan(int Layer, int LowerLayer, double T, IReadOnlyList<int[]> RetainedKeys, IReadOnlyList<int[]> RetainedValues)
    : KvPlan(Layer)
{
    /// <summary>Key rows retained over all heads.</summary>
    public int RetainedKeyCount => RetainedKeys.Sum(r => r.Length);

    /// <summary>Value rows retained over all heads.</summary>
    public int RetainedValueCount => RetainedValues.Sum(r => r.Length);

    /// <summary>
    /// A compact, stable description (snapshot tests): the pair, t, and per head the retained key and value indices.
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"merge layers {LowerLayer}+{Layer} t={T:0.###}: keys retain {RetainedKeyCount}, values retain {RetainedValueCount}");
        for (int h = 0; h < RetainedKeys.Count; h++)
        {
            AppendRetained(sb, h, "keys", RetainedKeys[h]);
            if (h < RetainedValues.Count) AppendRetained(sb, h, "values", RetainedValues[h]);
        }
        return sb.ToString();
    }

    private static void AppendRetained(StringBuilder sb, int head, string what, int[] retained)
    {
        sb.Append(CultureInfo.InvariantCulture, $"\n  head {head} {what} retain {retained.Length}");
        if (retained.Length > 0) sb.Append(": ").AppendJoin(' ', retained);
    }
}
