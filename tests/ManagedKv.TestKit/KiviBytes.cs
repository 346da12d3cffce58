using ManagedKv.Model.Cache;
using ManagedKv.Model.Cache.Kivi;

namespace ManagedKv.TestKit;

/// <summary>
/// The byte formula a KV storage must report, written out independently of the storage classes: dense rows cost
/// width × element size; KIVI rows cost their packed codes (⌈width·bits/8⌉ bytes per quantised token), f16 min and
/// scale per group (keys: per channel of each token group, plus the group's 4-byte start; values: per channel group
/// of each token) and the dense tail.
/// </summary>
public static class KiviBytes
{
    public static long Expected(KvRows rows) => rows switch
    {
        KiviKeyRows k => Keys(k.Width, k.Format.Bits, k.QuantizedCount, k.GroupCount, k.TailCount, ElementBytes(k.TailType)),
        KiviValueRows v => Values(v.Width, v.Format.Bits, v.Format.Group, v.QuantizedCount, v.TailCount, ElementBytes(v.TailType)),
        _ => (long)rows.Count * rows.Width * ElementBytes(rows.StorageType),
    };

    public static long Keys(int width, int bits, int quantized, int groups, int tail, int tailElementBytes) =>
        quantized * (long)CodeBytes(width, bits) + groups * (width * 2L * 2 + 4) + (long)tail * width * tailElementBytes;

    public static long Values(int width, int bits, int group, int quantized, int tail, int tailElementBytes) =>
        quantized * ((long)CodeBytes(width, bits) + (width + group - 1) / group * 2L * 2) + (long)tail * width * tailElementBytes;

    private static int CodeBytes(int width, int bits) => (width * bits + 7) / 8;

    private static int ElementBytes(KvStorageType type) => type switch
    {
        KvStorageType.F32 => 4,
        KvStorageType.F16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a dense type"),
    };
}
