namespace ManagedKv.Model.Inference;

/// <summary>
/// A backend-owned f32 matrix of activations, [Rows, Cols] row-major. The forward pass only passes these
/// between backend operations, so a GPU backend can keep them in device memory.
/// </summary>
public abstract class DeviceTensor : IDisposable
{
    /// <summary>Creates a tensor of the given shape.</summary>
    protected DeviceTensor(int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        Rows = rows;
        Cols = cols;
    }

    /// <summary>Rows (tokens).</summary>
    public int Rows { get; }

    /// <summary>Columns (features).</summary>
    public int Cols { get; }

    /// <summary>Releases device memory (no-op for host tensors).</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>A <see cref="DeviceTensor"/> in ordinary managed memory, used by the reference and CPU backends.</summary>
public sealed class HostTensor(int rows, int cols) : DeviceTensor(rows, cols)
{
    /// <summary>The values, [Rows, Cols].</summary>
    public float[] Data { get; } = new float[checked(rows * cols)];

    /// <summary>Row <paramref name="r"/>.</summary>
    public Span<float> Row(int r) => Data.AsSpan(r * Cols, Cols);

    /// <summary>The first <paramref name="rows"/> rows.</summary>
    public Span<float> Rows0(int rows) => Data.AsSpan(0, rows * Cols);
}
