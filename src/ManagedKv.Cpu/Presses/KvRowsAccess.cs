using ManagedKv.Model.Cache;

namespace ManagedKv.Cpu.Presses;

/// <summary>Row access for the press kernels: dense f32 rows in place, any other storage decoded into a reused buffer.</summary>
internal static class KvRowsAccess
{
    /// <summary>Rows [start, start + count) as [count, width] floats.</summary>
    public static ReadOnlySpan<float> Rows(KvRows rows, int start, int count, ref float[] buffer)
    {
        int width = rows.Width;
        if (start < 0 || count < 0 || start + count > rows.Count)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"rows [{start}, {start + count}) are outside the {rows.Count} held");
        if (rows is DenseKvRows<float> dense) return dense.Data.Slice(start * width, count * width);
        if (buffer.Length < count * width) buffer = new float[count * width];
        for (int i = 0; i < count; i++) rows.Read(start + i, buffer.AsSpan(i * width, width));
        return buffer.AsSpan(0, count * width);
    }
}
