using ManagedKv.Cpu.Activations;
using ManagedKv.Cpu.Threading;

namespace ManagedKv.Cpu.Ops;

/// <summary>Converts activation rows into an <see cref="ActivationBuffer"/>, 8 rows per item.</summary>
internal sealed unsafe class QuantizeWork : IParallelWork
{
    private const int RowsPerItem = 8;
    private ActivationBuffer _buffer = null!;
    private float* _x;
    private int _stride, _rows;

    /// <summary>Configures the job and returns its item count.</summary>
    public int Set(ActivationBuffer buffer, float* x, int stride, int rows)
    {
        _buffer = buffer;
        _x = x;
        _stride = stride;
        _rows = rows;
        return (rows + RowsPerItem - 1) / RowsPerItem;
    }

    /// <inheritdoc/>
    public void Execute(int item, int worker)
    {
        int end = Math.Min(_rows, (item + 1) * RowsPerItem);
        for (int r = item * RowsPerItem; r < end; r++) ActivationQuantizer.QuantizeRow(_buffer, r, _x + (long)r * _stride);
    }
}
