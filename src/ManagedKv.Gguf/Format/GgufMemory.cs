using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace ManagedKv.Gguf;

/// <summary>
/// The bytes of an opened model file: a read-only memory map (or a pinned array, for in-memory files).
/// Weights are read in place through <see cref="Pointer"/>; nothing is copied to the managed heap.
/// </summary>
internal sealed unsafe class GgufMemory : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private GCHandle _pin;
    private bool _disposed;

    private GgufMemory(byte* pointer, long length, MemoryMappedFile? map, MemoryMappedViewAccessor? view, GCHandle pin)
    {
        _pointer = pointer;
        Length = length;
        _map = map;
        _view = view;
        _pin = pin;
    }

    private readonly byte* _pointer;

    public long Length { get; }

    public byte* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _pointer;
        }
    }

    public static GgufMemory Map(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"model file not found: {path}", path);
        long length = info.Length;
        if (length == 0) return FromArray([]);
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new GgufMemory(p + view.PointerOffset, length, map, view, default);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    public static GgufMemory FromArray(byte[] bytes)
    {
        var pin = GCHandle.Alloc(bytes, GCHandleType.Pinned);
        return new GgufMemory((byte*)pin.AddrOfPinnedObject(), bytes.Length, null, null, pin);
    }

    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > Length - length) throw new ArgumentOutOfRangeException(nameof(offset));
        return new ReadOnlySpan<byte>(Pointer + offset, length);
    }

    /// <summary>Writes <paramref name="length"/> bytes starting at <paramref name="offset"/> to a stream, in chunks
    /// (spans are limited to 2 GiB, tensors are not).</summary>
    public void CopyTo(long offset, long length, Stream destination)
    {
        if (offset < 0 || length < 0 || offset > Length - length) throw new ArgumentOutOfRangeException(nameof(offset));
        const int Chunk = 1 << 30;
        for (long done = 0; done < length;)
        {
            int n = (int)Math.Min(length - done, Chunk);
            destination.Write(new ReadOnlySpan<byte>(Pointer + offset + done, n));
            done += n;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
        if (_pin.IsAllocated) _pin.Free();
    }
}
