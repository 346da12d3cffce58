using ManagedKv.Gguf;

namespace ManagedKv.Model.Inference;

/// <summary>
/// A weight tensor prepared for a backend: on the CPU the memory-mapped view itself (no copy), on a GPU an
/// upload in the stored (quantised) type. Shape follows ggml: <see cref="InFeatures"/> = ne[0].
/// </summary>
public class DeviceWeight(TensorView view)
{
    /// <summary>The source view in the mapped file.</summary>
    public TensorView View { get; } = view;

    /// <summary>Stored element type.</summary>
    public GgmlType Type => View.Type;

    /// <summary>Length of one row (ne[0]): input features of a matrix.</summary>
    public int InFeatures => checked((int)View.RowLength);

    /// <summary>Number of rows: output features of a matrix, or the vocabulary of an embedding table.</summary>
    public int OutFeatures => checked((int)View.RowCount);
}
