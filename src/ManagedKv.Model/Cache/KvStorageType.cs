namespace ManagedKv.Model.Cache;

/// <summary>How the cache stores key and value rows.</summary>
public enum KvStorageType
{
    /// <summary>32-bit floats: exact, 4 bytes per element.</summary>
    F32,
    /// <summary>IEEE half floats: 2 bytes per element (llama.cpp's default cache type).</summary>
    F16,
    /// <summary>
    /// KIVI: 2- or 4-bit asymmetric quantised groups plus a full-precision tail (<see cref="Kivi.KiviRows"/>).
    /// Only a compression plan switches a head to it; it is never a cache's base type.
    /// </summary>
    Kivi,
}
