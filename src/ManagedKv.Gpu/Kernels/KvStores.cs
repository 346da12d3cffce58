using ILGPU;

namespace ManagedKv.Gpu.Kernels;

/// <summary>Element access to KV rows in device memory, whatever their storage type.</summary>
internal interface IKvStore
{
    /// <summary>Element <paramref name="i"/> as f32.</summary>
    float Load(long i);

    /// <summary>Stores <paramref name="v"/> at element <paramref name="i"/> in the storage type.</summary>
    void Store(long i, float v);
}

/// <summary>f32 rows.</summary>
internal readonly struct F32Store(ArrayView<float> data) : IKvStore
{
    /// <inheritdoc/>
    public float Load(long i) => data[i];

    /// <inheritdoc/>
    public void Store(long i, float v) => data[i] = v;
}

/// <summary>IEEE half rows (round to nearest even on store, as the host F16 cache does).</summary>
internal readonly struct F16Store(ArrayView<ushort> data) : IKvStore
{
    /// <inheritdoc/>
    public float Load(long i) => Bits.HalfToFloat(data[i]);

    /// <inheritdoc/>
    public void Store(long i, float v) => data[i] = (ushort)Bits.FloatToHalf(v);
}
