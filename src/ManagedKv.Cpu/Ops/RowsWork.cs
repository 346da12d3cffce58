using ManagedKv.Cpu.Threading;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Ops;

/// <summary>The row-parallel element-wise operations (embedding lookup, RMSNorm, SwiGLU), a fixed number of rows per item.</summary>
internal sealed unsafe class RowsWork : IParallelWork
{
    /// <summary>Which operation runs.</summary>
    public enum Op
    {
        /// <summary>Embedding rows.</summary>
        Embed,
        /// <summary>RMSNorm.</summary>
        RmsNorm,
        /// <summary>SwiGLU.</summary>
        SwiGlu,
    }

    private Op _op;
    private int _rows, _cols, _rowsPerItem;
    private float* _a, _b, _c;
    private float _eps;
    private TensorView _table;
    private int[] _tokens = [];

    /// <summary>Embedding: x[i] = table[tokens[i]].</summary>
    public int SetEmbed(TensorView table, ReadOnlySpan<int> tokens, float* x, int cols)
    {
        if (_tokens.Length < tokens.Length) _tokens = new int[Math.Max(tokens.Length, 2 * _tokens.Length)];
        tokens.CopyTo(_tokens);
        _table = table;
        return Configure(Op.Embed, tokens.Length, cols, 16, x, null, null);
    }

    /// <summary>RMSNorm of x into y with weights g.</summary>
    public int SetRmsNorm(float* x, float* g, float* y, int rows, int cols, float eps)
    {
        _eps = eps;
        return Configure(Op.RmsNorm, rows, cols, 8, x, g, y);
    }

    /// <summary>SwiGLU of gate (in place) and up.</summary>
    public int SetSwiGlu(float* gate, float* up, int rows, int cols)
    {
        return Configure(Op.SwiGlu, rows, cols, 4, gate, up, null);
    }

    private int Configure(Op op, int rows, int cols, int rowsPerItem, float* a, float* b, float* c)
    {
        _op = op;
        _rows = rows;
        _cols = cols;
        _rowsPerItem = rowsPerItem;
        _a = a;
        _b = b;
        _c = c;
        return (rows + rowsPerItem - 1) / rowsPerItem;
    }

    /// <inheritdoc/>
    public void Execute(int item, int worker)
    {
        int end = Math.Min(_rows, (item + 1) * _rowsPerItem);
        for (int r = item * _rowsPerItem; r < end; r++)
        {
            switch (_op)
            {
                case Op.Embed:
                    GgmlQuants.DequantizeRow(_table.Type, _table.Row(_tokens[r]), new Span<float>(_a + (long)r * _cols, checked((int)_table.RowLength)));
                    break;
                case Op.RmsNorm:
                    RowOps.RmsNorm(_a + (long)r * _cols, _b, _c + (long)r * _cols, _cols, _eps);
                    break;
                default:
                    RowOps.SwiGlu(_a + (long)r * _cols, _b + (long)r * _cols, _cols);
                    break;
            }
        }
    }
}
