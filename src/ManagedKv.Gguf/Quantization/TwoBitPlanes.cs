namespace ManagedKv.Gguf;

/// <summary>
/// The 2-bit code layout shared by Q2_K's and Q3_K's <c>qs[64]</c>: for half h (values 128h..128h+127),
/// byte 32h+l holds value 128h+32k+l in bits 2k..2k+1 (k = 0..3).
/// </summary>
internal static class TwoBitPlanes
{
    /// <summary>Packs 256 codes (each 0..3) into 64 bytes.</summary>
    public static void Pack(ReadOnlySpan<byte> l, Span<byte> qs)
    {
        for (int h = 0; h < 2; h++)
        {
            int j = 128 * h;
            for (int k = 0; k < 32; ++k)
                qs[32 * h + k] = (byte)(l[j + k] | (l[j + k + 32] << 2) | (l[j + k + 64] << 4) | (l[j + k + 96] << 6));
        }
    }

    /// <summary>Unpacks 64 bytes into 256 codes (each 0..3), in value order.</summary>
    public static void Unpack(ReadOnlySpan<byte> qs, Span<sbyte> q)
    {
        for (int h = 0; h < 2; h++)
            for (int k = 0; k < 4; k++)
                for (int l = 0; l < 32; ++l)
                    q[128 * h + 32 * k + l] = (sbyte)((qs[32 * h + l] >> (2 * k)) & 3);
    }
}
