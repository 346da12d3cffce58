using ManagedKv.Cpu.Kernels;
using ManagedKv.Cpu.Threading;

namespace ManagedKv.Cpu.Ops;

/// <summary>
/// Splits y = W·x into fixed blocks of (weight rows × tokens) whose sizes depend only on the shapes. Decoding
/// uses guided row blocks: each block takes a third of the rows still unassigned (down to 32 KB of weights),
/// so the first blocks are long sequential streams and the last ones are short, and whichever thread finishes
/// last waits only for a small block (measured 2–7 % faster decoding than equal blocks). Prefill uses 64 rows × a token block, so one pass over a block reads
/// each weight row once for all the block's tokens.
/// </summary>
internal sealed class MatMulWork : IParallelWork
{
    private const int MaxBounds = 128;
    private readonly int[] _bounds = new int[MaxBounds + 1]; // decoding: row boundaries of the blocks
    private MatMulKernel _kernel = null!;
    private MatMulArgs _args;
    private int _rowBlock, _tokenBlock, _tokenBlocks, _tokens, _blocks;

    /// <summary>Configures the job and returns its item count.</summary>
    public int Set(MatMulKernel kernel, in MatMulArgs args, int tokens)
    {
        _kernel = kernel;
        _args = args;
        _tokens = tokens;
        int o = args.OutFeatures;
        if (tokens == 1)
        {
            // Claiming a block moves cache lines between cores (about as costly as streaming a few kilobytes),
            // so blocks stay at least 32 KB of weights (and 16 rows); matrices under 32 KB run as one block.
            int minRows = (int)Math.Min(o, (Math.Max(16, 32768 / args.RowBytes) + 3) & ~3);
            int start = 0, n = 0;
            while (start < o)
            {
                int size = n == MaxBounds - 1 ? o - start : Math.Max(minRows, ((o - start) / 3 + 3) & ~3);
                _bounds[n++] = start;
                start = Math.Min(o, start + size);
            }
            _bounds[n] = o;
            _blocks = n;
            _tokenBlocks = 1;
            return n;
        }
        // Prefill: 64 weight rows × a token block whose activations (k bytes per token) stay in L2.
        _blocks = 0;
        _rowBlock = 64;
        _tokenBlock = Math.Clamp((int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, 131072 / args.K + 1)) / 2, 16, 64);
        _tokenBlocks = (tokens + _tokenBlock - 1) / _tokenBlock;
        return (o + _rowBlock - 1) / _rowBlock * _tokenBlocks;
    }

    /// <inheritdoc/>
    public void Execute(int item, int worker)
    {
        if (_blocks > 0)
        {
            _kernel.Compute(_args, _bounds[item], _bounds[item + 1], 0, 1);
            return;
        }
        int ob = item / _tokenBlocks, tb = item % _tokenBlocks;
        int o0 = ob * _rowBlock, t0 = tb * _tokenBlock;
        _kernel.Compute(_args, o0, Math.Min(o0 + _rowBlock, _args.OutFeatures), t0, Math.Min(t0 + _tokenBlock, _tokens));
    }
}
