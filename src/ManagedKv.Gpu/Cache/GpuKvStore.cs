using ManagedKv.Gpu.Kernels;
using ManagedKv.Model.Cache;

namespace ManagedKv.Gpu.Cache;

/// <summary>
/// The <see cref="IKvRowsFactory"/> of one GPU-resident cache: one <see cref="GpuKvLayer"/> per layer, created on
/// first use, whose head slots back the cache's dense rows.
/// </summary>
public sealed class GpuKvStore : IKvRowsFactory, IDisposable
{
    private readonly KernelSet _kernels;
    private readonly GpuKvLayer?[] _layers; // [layers]

    internal GpuKvStore(KernelSet kernels, int layers)
    {
        _kernels = kernels;
        _layers = new GpuKvLayer?[layers];
    }

    /// <summary>Cache dimensions, set by the backend before the cache builds its heads.</summary>
    internal (int KvHeads, int KeyDim, int ValueDim) Shape { get; init; }

    /// <summary>The device layer <paramref name="layer"/> (null before the cache created it).</summary>
    public GpuKvLayer? Layer(int layer) => _layers[layer];

    /// <inheritdoc/>
    public KvRows Create(int layer, int kvHead, bool keys, KvStorageType type, int width)
    {
        var l = _layers[layer] ??= type switch
        {
            KvStorageType.F32 => new GpuKvLayerOf<float, F32Store>(_kernels, type, Shape.KvHeads, Shape.KeyDim, Shape.ValueDim, v => new F32Store(v)),
            KvStorageType.F16 => new GpuKvLayerOf<ushort, F16Store>(_kernels, type, Shape.KvHeads, Shape.KeyDim, Shape.ValueDim, v => new F16Store(v)),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "device KV rows are F32 or F16"),
        };
        return l.CreateRows(kvHead, keys);
    }

    /// <summary>Frees every layer's device buffers.</summary>
    public void Dispose()
    {
        foreach (var l in _layers) l?.Dispose();
    }
}
