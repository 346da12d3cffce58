using ILGPU;

namespace ManagedKv.Gpu.Kernels;

/// <summary>
/// Cache maintenance on the device. A layer's rows live in one buffer [kvHeads, capacity, width]; head h's row j
/// is at (h·capacity + j)·width.
/// </summary>
internal static class KvKernels
{
    /// <summary>
    /// Appends rows: element i = (r, h, d) of a [rows, kvHeads·width] source (row stride srcStride) goes to row
    /// starts[h] + r of head h.
    /// </summary>
    public static void Append<TStore>(Index1D i, ArrayView<float> src, long srcStride, int kvHeads, int width,
        ArrayView<int> starts, TStore dst, int capacity) where TStore : struct, IKvStore
    {
        int d = i % width, h = (i / width) % kvHeads, r = i / (width * kvHeads);
        dst.Store(((long)h * capacity + starts[h] + r) * width + d, src[r * srcStride + (long)h * width + d]);
    }

    /// <summary>dst row j of a compact [n, width] buffer = row indices[j] of head <paramref name="head"/> (element i = (j, d)).</summary>
    public static void Gather<TStore>(Index1D i, TStore src, int head, int capacity, int width, ArrayView<int> indices, TStore dst)
        where TStore : struct, IKvStore
    {
        int d = i % width, j = i / width;
        dst.Store(i, src.Load(((long)head * capacity + indices[j]) * width + d));
    }

    /// <summary>Row first + j of head <paramref name="head"/> = row j of a compact [n, width] buffer (element i = (j, d)).</summary>
    public static void Scatter<TSource, TStore>(Index1D i, TSource src, int head, int first, int capacity, int width, TStore dst)
        where TSource : struct, IKvStore where TStore : struct, IKvStore
    {
        int d = i % width, j = i / width;
        dst.Store(((long)head * capacity + first + j) * width + d, src.Load(i));
    }

    /// <summary>Copies the first counts[h] rows of every head from a layer of capacity oldCapacity to one of newCapacity.</summary>
    public static void Regrow<TStore>(Index1D i, TStore src, int oldCapacity, int width, ArrayView<int> counts, TStore dst, int newCapacity)
        where TStore : struct, IKvStore
    {
        int d = i % width, j = (i / width) % oldCapacity, h = i / (width * oldCapacity);
        if (j < counts[h]) dst.Store(((long)h * newCapacity + j) * width + d, src.Load(((long)h * oldCapacity + j) * width + d));
    }

    /// <summary>Converts one row (element i) to f32: Read of a single row.</summary>
    public static void ReadRow<TStore>(Index1D i, TStore src, long start, ArrayView<float> dst) where TStore : struct, IKvStore =>
        dst[i] = src.Load(start + i);
}
