using ManagedKv.Gguf;

namespace ManagedKv.Model.Synthesis;

/// <summary>A tensor of an unquantised model, as <see cref="LlamaQuantMix"/> sees it.</summary>
/// <param name="Name">GGUF tensor name, e.g. <c>blk.3.attn_v.weight</c>.</param>
/// <param name="Dimensions">ggml dimensions, ne[0] (the row length) first.</param>
/// <param name="Type">The type it is stored in (what tensors that are never quantised keep).</param>
public readonly record struct SourceTensor(string Name, long[] Dimensions, GgmlType Type);
