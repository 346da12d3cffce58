using ManagedKv.Cpu.Kernels;
using ManagedKv.Cpu.Threading;

namespace ManagedKv.Cpu.Ops;

/// <summary>
/// Splits y = W·x into fixed blocks of (weight rows × tokens) whose size depends only on the shapes: one pass
/// over a block reads each weight row once for all the block's tokens.
/// </summary>
internal sealed class MatMulWork : IParallelWork
{
    private MatMulKernel _kernel = null!;
    private MatMulArgs _args;
    private int _rowBlock, _tokenBlock, _tokenBlocks, _tokens;

    /// <summary>Configures the job and returns its item count.</summary>
    public int Set(MatMulKernel kernel, in MatMulArgs args, int tokens)
    {
        _kernel = kernel;
        _args = args;
        _tokens = tokens;
        int o = args.OutFeatures;
        if (tokens == 1)
        {
            // Decoding: a handful of blocks (claiming one moves cache lines between cores, which costs about
            // as much as streaming a few kilobytes of weights), none smaller than 32 KB of weights, so the
            // K/V projections of small models run as one block.
            int minRows = (int)Math.Min(o, Math.Max(16, 32768 / args.RowBytes));
            _rowBlock = (Math.Max(minRows, (o + 7) / 8) + 3) & ~3;
            _tokenBlock = 1;
        }
        else
        {
            // Prefill: 64 weight rows × a token block whose activations (k bytes per token) stay in L2.
            _rowBlock = 64;
            _tokenBlock = Math.Clamp((int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, 131072 / args.K + 1)) / 2, 16, 64);
        }
        _tokenBlocks = (tokens + _tokenBlock - 1) / _tokenBlock;
        return (o + _rowBlock - 1) / _rowBlock * _tokenBlocks;
    }

    /// <inheritdoc/>
    public void Execute(int item, int worker)
    {
        int ob = item / _tokenBlocks, tb = item % _tokenBlocks;
        int o0 = ob * _rowBlock, t0 = tb * _tokenBlock;
        _kernel.Compute(_args, o0, Math.Min(o0 + _rowBlock, _args.OutFeatures), t0, Math.Min(t0 + _tokenBlock, _tokens));
    }
}
