using System.Globalization;

namespace ManagedKv.Model.Tokenization;

/// <summary>
/// The Unicode classes llama.cpp's pre-tokenizers test (its <c>unicode_cpt_flags</c>): one general-category
/// group per code point plus the White_Space property. llama.cpp generates its table with Python's
/// <c>regex</c> module (<c>\p{N}</c>, <c>\p{L}</c>, … and <c>\s</c>); .NET's own category data is used here,
/// which differs only for code points assigned in a newer Unicode version than llama.cpp's table.
/// </summary>
internal readonly struct CodepointFlags
{
    // Category groups, one per code point. "None" is the out-of-range value (llama.cpp's default-constructed flags,
    // whose as_uint() is 0); every real code point has exactly one group.
    private const byte None = 0, Number = 1, Letter = 2, Separator = 3, AccentMark = 4, Punctuation = 5, Symbol = 6, Control = 7;
    private const byte WhitespaceBit = 0x80;

    private static readonly byte[] Bmp = BuildBmp();

    private readonly byte _bits;

    private CodepointFlags(byte bits) => _bits = bits;

    /// <summary>Flags of a position outside the current piece (all false, "no code point").</summary>
    public static CodepointFlags OutOfRange => default;

    /// <summary>True for every real code point (llama.cpp's <c>as_uint() != 0</c>).</summary>
    public bool Exists => (_bits & 0x7F) != None;

    /// <summary><c>\p{L}</c>.</summary>
    public bool IsLetter => (_bits & 0x7F) == Letter;

    /// <summary><c>\p{N}</c>.</summary>
    public bool IsNumber => (_bits & 0x7F) == Number;

    /// <summary>The Unicode White_Space property (Python's <c>\s</c>).</summary>
    public bool IsWhitespace => (_bits & WhitespaceBit) != 0;

    /// <summary>The flags of one code point.</summary>
    public static CodepointFlags Of(int codepoint) =>
        new((uint)codepoint < 0x10000 ? Bmp[codepoint] : Compute(codepoint));

    /// <summary>
    /// The single byte llama.cpp's <c>unicode_regex_split</c> substitutes for a non-ASCII code point in its
    /// "collapsed" text, so that <c>\p{…}</c> classes can be run by a byte regex engine: 0x0B for whitespace,
    /// 0xD1 number, 0xD2 letter, 0xD3 punctuation, 0xD4 accent mark, 0xD5 symbol, 0xD0 anything else.
    /// </summary>
    public static char Collapse(int codepoint)
    {
        if (codepoint < 0x80) return (char)codepoint;
        var flags = Of(codepoint);
        if (flags.IsWhitespace) return '\v';
        return (flags._bits & 0x7F) switch
        {
            Number => '\u00D1',
            Letter => '\u00D2',
            Punctuation => '\u00D3',
            AccentMark => '\u00D4',
            Symbol => '\u00D5',
            _ => '\u00D0',
        };
    }

    private static byte[] BuildBmp()
    {
        var table = new byte[0x10000];
        for (int cp = 0; cp < table.Length; cp++) table[cp] = Compute(cp);
        return table;
    }

    private static byte Compute(int codepoint)
    {
        byte group = CharUnicodeInfo.GetUnicodeCategory(codepoint) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => AccentMark,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
            UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => Separator,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => Punctuation,
            UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
                or UnicodeCategory.OtherSymbol => Symbol,
            // Cc, Cf, Cs, Co and unassigned (Cn): Python's \p{C} covers all of them.
            _ => Control,
        };
        return (byte)(group | (IsWhiteSpaceProperty(codepoint) ? WhitespaceBit : 0));
    }

    // Unicode White_Space (what Python's regex \s matches); note U+001C..U+001F are not included.
    private static bool IsWhiteSpaceProperty(int cp) =>
        cp is >= 0x09 and <= 0x0D or 0x20 or 0x85 or 0xA0 or 0x1680 or >= 0x2000 and <= 0x200A
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;
}
