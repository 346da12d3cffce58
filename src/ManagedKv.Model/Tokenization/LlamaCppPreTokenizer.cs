using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace ManagedKv.Model.Tokenization;

/// <summary>
/// llama.cpp's BPE pre-tokenizer (<c>unicode_regex_split</c>) as a Microsoft.ML.Tokenizers
/// <see cref="PreTokenizer"/>. The library's <see cref="RegexPreTokenizer"/> runs one .NET regex over the text;
/// llama.cpp instead applies a <em>list</em> of regexes in turn, each one re-splitting every piece the previous
/// one produced (unmatched stretches become pieces too), runs the GPT-2 and Llama-3 patterns through hand-written
/// matchers, and evaluates <c>\p{…}</c> on a collapsed one-byte-per-code-point text. Reproducing its words exactly
/// needs that whole procedure, so it lives here.
/// </summary>
internal sealed class LlamaCppPreTokenizer : PreTokenizer
{
    /// <summary>The GPT-2 pattern llama.cpp replaces by <see cref="SplitGpt2"/>.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";

    /// <summary>The Llama-3 patterns llama.cpp replaces by <see cref="SplitLlama3"/> (original and adapted).</summary>
    public const string Llama3Pattern = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const string Llama3PatternOriginal = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private enum RuleKind { Gpt2, Llama3, Regex }

    private readonly (RuleKind Kind, Regex? Regex, bool Collapsed)[] _rules;

    /// <summary>Creates the splitter for llama.cpp's regex list of one pre-tokenizer type.</summary>
    public LlamaCppPreTokenizer(IReadOnlyList<string> llamaCppPatterns)
    {
        Patterns = llamaCppPatterns;
        _rules = new (RuleKind, Regex?, bool)[llamaCppPatterns.Count];
        for (int i = 0; i < _rules.Length; i++)
        {
            string p = llamaCppPatterns[i];
            if (p == Gpt2Pattern) _rules[i] = (RuleKind.Gpt2, null, false);
            else if (p is Llama3Pattern or Llama3PatternOriginal) _rules[i] = (RuleKind.Llama3, null, false);
            else
            {
                var (regex, collapsed) = LlamaCppRegex.Get(p);
                _rules[i] = (RuleKind.Regex, regex, collapsed);
            }
        }
    }

    /// <summary>The llama.cpp patterns, in application order.</summary>
    public IReadOnlyList<string> Patterns { get; }

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => Split(text);

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text);

    /// <summary>The words of <paramref name="text"/> as UTF-16 (offset, length) pairs covering the whole text.</summary>
    public List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var words = new List<(int, int)>();
        if (text.IsEmpty) return words;

        var input = new SplitInput(text);
        var pieces = new List<int> { input.Count };     // piece lengths in code points
        var next = new List<int>();
        foreach (var (kind, regex, collapsed) in _rules)
        {
            next.Clear();
            switch (kind)
            {
                case RuleKind.Gpt2: SplitGpt2(input, pieces, next); break;
                case RuleKind.Llama3: SplitLlama3(input, pieces, next); break;
                default: SplitRegex(input, regex!, collapsed, pieces, next); break;
            }
            (pieces, next) = (next, pieces);
        }

        int cp = 0;
        foreach (int length in pieces)
        {
            int from = input.UnitOf(cp), to = input.UnitOf(cp + length);
            words.Add((from, to - from));
            cp += length;
        }
        return words;
    }

    // unicode_regex_split_stl: within each piece, matches and the gaps between them become pieces.
    private static void SplitRegex(SplitInput input, Regex regex, bool collapsed, List<int> pieces, List<int> output)
    {
        ReadOnlySpan<char> text = collapsed ? input.Collapsed : input.WideText;
        int start = 0;
        foreach (int length in pieces)
        {
            int unitFrom = collapsed ? start : input.UnitOf(start);
            int unitTo = collapsed ? start + length : input.UnitOf(start + length);
            int previous = start;       // code point index where the last match ended
            foreach (var m in regex.EnumerateMatches(text[unitFrom..unitTo]))
            {
                int mFrom = collapsed ? start + m.Index : input.CodepointAt(unitFrom + m.Index);
                int mTo = collapsed ? mFrom + m.Length : input.CodepointAt(unitFrom + m.Index + m.Length);
                if (mFrom > previous) output.Add(mFrom - previous);
                output.Add(mTo - mFrom);
                previous = mTo;
            }
            if (previous < start + length) output.Add(start + length - previous);
            start += length;
        }
    }

    // Port of unicode_regex_split_custom_gpt2 ('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+).
    private static void SplitGpt2(SplitInput input, List<int> pieces, List<int> output)
    {
        int start = 0;
        foreach (int length in pieces)
        {
            int ini = start, end = start + length;
            start = end;
            var piece = new PieceView(input, ini, end);
            int prevEnd = ini;

            for (int pos = ini; pos < end;)
            {
                int cpt = piece.Cpt(pos);
                var flags = piece.Flags(pos);

                if (cpt == '\'' && ContractionLength(piece, pos, end, ignoreCase: false) is var contraction && contraction > 0)
                {
                    pos += Add(ref prevEnd, pos + contraction, output);
                    continue;
                }

                var flags2 = cpt == ' ' ? piece.Flags(pos + 1) : flags;
                if (flags2.IsLetter)
                {
                    pos += cpt == ' ' ? 1 : 0;
                    while (flags2.IsLetter) flags2 = piece.Flags(++pos);
                    Add(ref prevEnd, pos, output);
                    continue;
                }
                if (flags2.IsNumber)
                {
                    pos += cpt == ' ' ? 1 : 0;
                    while (flags2.IsNumber) flags2 = piece.Flags(++pos);
                    Add(ref prevEnd, pos, output);
                    continue;
                }
                if (!(flags2.IsWhitespace || flags2.IsLetter || flags2.IsNumber) && flags2.Exists)
                {
                    pos += cpt == ' ' ? 1 : 0;
                    while (!(flags2.IsWhitespace || flags2.IsLetter || flags2.IsNumber) && flags2.Exists) flags2 = piece.Flags(++pos);
                    Add(ref prevEnd, pos, output);
                    continue;
                }

                int spaces = 0;
                while (piece.Flags(pos + spaces).IsWhitespace) spaces++;
                if (spaces > 1 && pos + spaces < end)       // \s+(?!\S)
                {
                    pos += spaces - 1;
                    Add(ref prevEnd, pos, output);
                    continue;
                }
                if (spaces > 0)                             // \s+
                {
                    pos += spaces;
                    Add(ref prevEnd, pos, output);
                    continue;
                }
                Add(ref prevEnd, ++pos, output);            // no match
            }
        }
    }

    // Port of unicode_regex_split_custom_llama3
    // ((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+).
    private static void SplitLlama3(SplitInput input, List<int> pieces, List<int> output)
    {
        int start = 0;
        foreach (int length in pieces)
        {
            int ini = start, end = start + length;
            start = end;
            var piece = new PieceView(input, ini, end);
            int prevEnd = ini;

            for (int pos = ini; pos < end;)
            {
                int cpt = piece.Cpt(pos);
                var flags = piece.Flags(pos);

                if (cpt == '\'' && ContractionLength(piece, pos, end, ignoreCase: true) is var contraction && contraction > 0)
                {
                    pos += Add(ref prevEnd, pos + contraction, output);
                    continue;
                }

                if (!(cpt == '\r' || cpt == '\n' || flags.IsNumber))     // [^\r\n\p{L}\p{N}]?\p{L}+
                {
                    if (flags.IsLetter || piece.Flags(pos + 1).IsLetter)
                    {
                        pos++;
                        while (piece.Flags(pos).IsLetter) pos++;
                        Add(ref prevEnd, pos, output);
                        continue;
                    }
                }

                if (flags.IsNumber)                                        // \p{N}{1,3}
                {
                    int numberStart = pos;
                    while (piece.Flags(pos).IsNumber)
                    {
                        if (++pos - numberStart >= 3)
                        {
                            Add(ref prevEnd, pos, output);
                            numberStart = pos;
                        }
                    }
                    Add(ref prevEnd, pos, output);
                    continue;
                }

                var flags2 = cpt == ' ' ? piece.Flags(pos + 1) : flags;    //  ?[^\s\p{L}\p{N}]+[\r\n]*
                if (!(flags2.IsWhitespace || flags2.IsLetter || flags2.IsNumber) && flags.Exists)
                {
                    pos += cpt == ' ' ? 1 : 0;
                    while (!(flags2.IsWhitespace || flags2.IsLetter || flags2.IsNumber) && flags2.Exists) flags2 = piece.Flags(++pos);
                    int c2 = piece.Cpt(pos);
                    while (c2 is '\r' or '\n') c2 = piece.Cpt(++pos);
                    Add(ref prevEnd, pos, output);
                    continue;
                }

                int spaces = 0, lastLineEnd = 0;
                while (piece.Flags(pos + spaces).IsWhitespace)
                {
                    int c2 = piece.Cpt(pos + spaces);
                    if (c2 is '\r' or '\n') lastLineEnd = pos + spaces + 1;
                    spaces++;
                }
                if (lastLineEnd > 0)                                       // \s*[\r\n]+
                {
                    pos = lastLineEnd;
                    Add(ref prevEnd, pos, output);
                    continue;
                }
                if (spaces > 1 && pos + spaces < end)                      // \s+(?!\S)
                {
                    pos += spaces - 1;
                    Add(ref prevEnd, pos, output);
                    continue;
                }
                if (spaces > 0)                                            // \s+
                {
                    pos += spaces;
                    Add(ref prevEnd, pos, output);
                    continue;
                }
                Add(ref prevEnd, ++pos, output);
            }
        }
    }

    // llama.cpp's _add_token: emits the stretch since the previous end (if non-empty) and returns its length.
    private static int Add(ref int prevEnd, int end, List<int> output)
    {
        int length = end - prevEnd;
        if (length > 0) output.Add(length);
        prevEnd = end;
        return length;
    }

    // llama.cpp's unicode_tolower (simple case mapping); only ASCII targets matter for the contractions.
    /// <summary>
    /// Length of the English contraction ('s 't 'm 'd 're 've 'll) starting at the apostrophe at <paramref name="pos"/>,
    /// or 0; llama3's split matches it case-insensitively, gpt2's case-sensitively.
    /// </summary>
    private static int ContractionLength(in PieceView piece, int pos, int end, bool ignoreCase)
    {
        if (pos + 1 >= end) return 0;
        int n1 = piece.Cpt(pos + 1);
        if (ignoreCase) n1 = ToLower(n1);
        if (n1 is 's' or 't' or 'm' or 'd') return 2;
        if (pos + 2 >= end) return 0;
        int n2 = piece.Cpt(pos + 2);
        if (ignoreCase) n2 = ToLower(n2);
        return (n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l') ? 3 : 0;
    }

    private static int ToLower(int cpt) => cpt < 0 ? cpt : Rune.IsValid(cpt) ? Rune.ToLowerInvariant(new Rune(cpt)).Value : cpt;

    /// <summary>Bounded access to one piece: outside it every position reads as "no code point".</summary>
    private readonly ref struct PieceView(SplitInput input, int from, int to)
    {
        private readonly ReadOnlySpan<int> _cpts = input.Codepoints;

        public int Cpt(int pos) => pos >= from && pos < to ? _cpts[pos] : -1;

        public CodepointFlags Flags(int pos) => pos >= from && pos < to ? CodepointFlags.Of(_cpts[pos]) : CodepointFlags.OutOfRange;
    }

    /// <summary>The text as code points plus the two matching views the regex rules need, built on demand.</summary>
    private sealed class SplitInput
    {
        private readonly string _text;
        private readonly int[] _cpts;
        private readonly int[] _unitOfCp;     // [Count + 1] UTF-16 offset of each code point
        private string? _collapsed;
        private string? _wide;

        public SplitInput(ReadOnlySpan<char> text)
        {
            _text = text.ToString();
            _cpts = new int[text.Length];
            _unitOfCp = new int[text.Length + 1];
            int n = 0;
            for (int u = 0; u < text.Length;)
            {
                _unitOfCp[n] = u;
                // Lone surrogates stand for U+FFFD, which is what llama.cpp sees for invalid UTF-8.
                if (char.IsHighSurrogate(text[u]) && u + 1 < text.Length && char.IsLowSurrogate(text[u + 1]))
                {
                    _cpts[n++] = char.ConvertToUtf32(text[u], text[u + 1]);
                    u += 2;
                }
                else
                {
                    _cpts[n++] = char.IsSurrogate(text[u]) ? 0xFFFD : text[u];
                    u++;
                }
            }
            _unitOfCp[n] = text.Length;
            Count = n;
        }

        public int Count { get; }

        public ReadOnlySpan<int> Codepoints => _cpts.AsSpan(0, Count);

        public int UnitOf(int cp) => _unitOfCp[cp];

        /// <summary>Index of the code point starting at or after UTF-16 offset <paramref name="unit"/>.</summary>
        public int CodepointAt(int unit)
        {
            int i = Array.BinarySearch(_unitOfCp, 0, Count + 1, unit);
            return i >= 0 ? i : ~i;
        }

        /// <summary>One char per code point: ASCII kept, the rest replaced by its category byte.</summary>
        public string Collapsed => _collapsed ??= string.Create(Count, _cpts, static (dst, cpts) =>
        {
            for (int i = 0; i < dst.Length; i++) dst[i] = CodepointFlags.Collapse(cpts[i]);
        });

        /// <summary>The text with non-ASCII whitespace replaced by U+000B (llama.cpp's std::wregex input).</summary>
        public string WideText => _wide ??= string.Create(_text.Length, _text, static (dst, src) =>
        {
            for (int i = 0; i < dst.Length; i++)
            {
                char c = src[i];
                dst[i] = c > 0x7F && !char.IsSurrogate(c) && CodepointFlags.Of(c).IsWhitespace ? '\v' : c;
            }
        });
    }
}
