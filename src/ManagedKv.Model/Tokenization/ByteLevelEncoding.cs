using System.Text;

namespace ManagedKv.Model.Tokenization;

/// <summary>
/// GPT-2's reversible byte ↔ character mapping used by byte-level BPE vocabularies: printable bytes map to
/// themselves, the others to U+0100.. in order (so ' ' is 'Ġ' and '\n' is 'Ċ'). Same table as llama.cpp's
/// <c>unicode_byte_to_utf8_map</c>.
/// </summary>
internal static class ByteLevelEncoding
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b)).ToDictionary(x => x.c, x => (byte)x.b);

    /// <summary>The character that stands for <paramref name="b"/>.</summary>
    public static char Encode(byte b) => ByteToChar[b];

    /// <summary>The byte-level spelling of a piece of text (its UTF-8 bytes, each mapped to one character).</summary>
    public static string Encode(ReadOnlySpan<char> text)
    {
        int byteCount = Encoding.UTF8.GetByteCount(text);
        byte[] bytes = System.Buffers.ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            Encoding.UTF8.GetBytes(text, bytes);
            return string.Create(byteCount, bytes, static (dst, src) =>
            {
                for (int i = 0; i < dst.Length; i++) dst[i] = ByteToChar[src[i]];
            });
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>The byte a mapped character stands for, or false when it is not part of the mapping.</summary>
    public static bool TryDecode(char c, out byte b) => CharToByte.TryGetValue(c, out b);

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var assigned = new bool[256];
        for (int b = '!'; b <= '~'; b++) { map[b] = (char)b; assigned[b] = true; }
        for (int b = 0xA1; b <= 0xAC; b++) { map[b] = (char)b; assigned[b] = true; }
        for (int b = 0xAE; b <= 0xFF; b++) { map[b] = (char)b; assigned[b] = true; }
        int n = 0;
        for (int b = 0; b < 256; b++)
            if (!assigned[b]) map[b] = (char)(256 + n++);
        return map;
    }
}
