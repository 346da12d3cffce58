using ILGPU;

namespace ManagedKv.Gpu.Kernels;

/// <summary>
/// Arguments of the attention kernels for one layer and a block of query rows. Keys and values live in the
/// layer's buffers [kvHeads, Capacity, dim]; query head h reads KV head h / Group; the row r sees the first
/// Visible[r, kvHead] tokens of that head (positions are strictly increasing, so causality is a prefix).
/// Tokens are processed in splits of Chunk (flash-decoding): each warp handles one (row, head, split).
/// </summary>
internal struct AttentionArgs
{
    public ArrayView<float> Q;        // [Rows, QStride] queries after RoPE, head h at h·KeyDim
    public long QStride;
    public int Rows, Heads, Group, KvHeads, KeyDim, ValueDim, Capacity, Splits, Chunk;
    public float Scale;               // 1/√KeyDim
    public ArrayView<int> Visible;    // [Rows, KvHeads] visible prefix length
    public ArrayView<float> P;        // [Rows, Heads, Capacity] scores, then e^(s − m_split)
    public ArrayView<float> Partial;  // [Rows, Heads, Splits, ValueDim + 2] unnormalised output, m_split, l_split
    public ArrayView<float> Totals;   // [Rows, Heads, 2] global max M and normaliser L

    /// <summary>Floats of one partial record.</summary>
    public readonly int PartialWidth => ValueDim + 2;
}
