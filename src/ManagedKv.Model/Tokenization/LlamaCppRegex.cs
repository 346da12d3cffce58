using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ManagedKv.Model.Tokenization;

/// <summary>
/// Turns one of llama.cpp's pre-tokenizer regexes into a .NET <see cref="Regex"/> that splits text exactly as
/// llama.cpp's <c>unicode_regex_split</c> does with <c>std::regex</c>:
/// <list type="bullet">
/// <item>a regex that uses <c>\p{…}</c> runs on the "collapsed" text (every non-ASCII code point replaced by one
/// category byte, see <see cref="CodepointFlags.Collapse"/>) and each <c>\p{X}</c> becomes the class
/// "category byte + the ASCII members of X", exactly llama.cpp's rewrite;</item>
/// <item>any other regex runs on the code points with non-ASCII whitespace replaced by U+000B; bracket
/// expressions holding code points above U+FFFF are rewritten as surrogate-pair alternations because .NET
/// matches UTF-16 units;</item>
/// <item>ECMAScript's <c>$</c> (end of input only) becomes <c>(?![\s\S])</c>, since .NET's <c>$</c> also matches
/// before a final newline. <c>\s</c> needs no change: on these pre-processed texts .NET's and libstdc++'s
/// <c>\s</c> accept the same characters.</item>
/// </list>
/// Parsed regexes are cached process-wide. They are interpreted rather than compiled: compiling the large
/// DeepSeek classes costs hundreds of milliseconds at load, more than interpretation costs on any prompt.
/// </summary>
internal static class LlamaCppRegex
{
    // llama.cpp's k_ucat_enum / k_ucat_cpt / k_ucat_map: category → collapsed byte + its ASCII members.
    private static readonly (string Key, string Replacement)[] Categories =
    [
        (@"\p{N}", "\u00D1" + "0-9"),
        (@"\p{L}", "\u00D2" + "A-Za-z"),
        (@"\p{P}", "\u00D3" + @"!-#%-*,-/:-;?-@\[-\]_\{\}"),
        (@"\p{M}", "\u00D4"),
        (@"\p{S}", "\u00D5" + @"\$\+<->\^`\|"),
        (@"\p{Lu}", "\u00D2" + "A-Za-z"),
        (@"\p{Ll}", "\u00D2" + "A-Za-z"),
        (@"\p{Lt}", "\u00D2" + "A-Za-z"),
        (@"\p{Lm}", "\u00D2" + "A-Za-z"),
        (@"\p{Lo}", "\u00D2" + "A-Za-z"),
    ];

    private static readonly ConcurrentDictionary<string, (Regex Regex, bool Collapsed)> Cache = new(StringComparer.Ordinal);

    /// <summary>The compiled .NET regex for a llama.cpp pattern and whether it runs on collapsed text.</summary>
    public static (Regex Regex, bool Collapsed) Get(string llamaPattern) => Cache.GetOrAdd(llamaPattern, static p =>
    {
        bool collapsed = UsesCategories(p);
        string pattern = collapsed ? Collapse(p) : ExpandAstralClasses(p);
        pattern = ReplaceEndAnchor(pattern);
        return (new Regex(pattern, RegexOptions.CultureInvariant), collapsed);
    });

    /// <summary>True when the pattern names a Unicode category llama.cpp knows (then it needs the collapsed text).</summary>
    public static bool UsesCategories(string pattern)
    {
        foreach (var (key, _) in Categories)
            if (pattern.Contains(key, StringComparison.Ordinal)) return true;
        return false;
    }

    // Port of the "regex_expr_collapsed" loop of unicode_regex_split, including its simple notion of "inside []".
    private static string Collapse(string p)
    {
        foreach (char c in p)
            if (c >= 0x80) throw new ArgumentException("a regex with Unicode categories must be ASCII (llama.cpp rejects it too)", nameof(p));
        var sb = new StringBuilder(p.Length * 2);
        bool inside = false;
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] == '[' && (i == 0 || p[i - 1] != '\\'))
            {
                sb.Append('[');
                inside = true;
                continue;
            }
            if (inside && p[i] == ']' && p[i - 1] != '\\')
            {
                sb.Append(']');
                inside = false;
                continue;
            }
            if (p[i] == '\\' && i + 3 < p.Length && p[i + 1] == 'p' && p[i + 2] == '{')
            {
                int close = p.IndexOf('}', i + 3);
                if (close >= 0 && close <= i + 10)
                {
                    string key = p.Substring(i, close - i + 1);
                    int k = Array.FindIndex(Categories, c => c.Key == key);
                    if (k >= 0)
                    {
                        if (!inside) sb.Append('[');
                        sb.Append(Categories[k].Replacement);
                        if (!inside) sb.Append(']');
                        i = close;
                        continue;
                    }
                }
            }
            sb.Append(p[i]);
        }
        return sb.ToString();
    }

    // ECMAScript "$" without multiline matches only at the very end; .NET's also matches before a final '\n'.
    private static string ReplaceEndAnchor(string p)
    {
        var sb = new StringBuilder(p.Length + 8);
        bool inClass = false;
        for (int i = 0; i < p.Length; i++)
        {
            char c = p[i];
            if (c == '\\' && i + 1 < p.Length)
            {
                sb.Append(c).Append(p[++i]);
                continue;
            }
            if (c == '[') inClass = true;
            else if (c == ']') inClass = false;
            if (c == '$' && !inClass) sb.Append(@"(?![\s\S])");
            else sb.Append(c);
        }
        return sb.ToString();
    }

    // Rewrites "[...]" holding code points above U+FFFF as "(?:[bmp part]|\uD801[\uDC00-\uDC4F]|...)".
    private static string ExpandAstralClasses(string p)
    {
        if (!p.Any(char.IsSurrogate)) return p;
        var sb = new StringBuilder(p.Length * 2);
        for (int i = 0; i < p.Length; i++)
        {
            char c = p[i];
            if (c == '\\' && i + 1 < p.Length)
            {
                sb.Append(c).Append(p[++i]);
                continue;
            }
            if (c != '[')
            {
                sb.Append(c);
                continue;
            }
            int end = i + 1;
            while (end < p.Length && p[end] != ']') end += p[end] == '\\' ? 2 : 1;
            if (end >= p.Length) throw new ArgumentException($"unterminated bracket expression in {p}", nameof(p));
            string body = p.Substring(i + 1, end - i - 1);
            sb.Append(body.Any(char.IsSurrogate) ? ExpandClass(body) : "[" + body + "]");
            i = end;
        }
        return sb.ToString();
    }

    private static string ExpandClass(string body)
    {
        if (body.StartsWith('^')) throw new NotSupportedException("negated bracket expressions with code points above U+FFFF");
        var bmp = new StringBuilder();
        var astral = new List<(int Lo, int Hi)>();
        for (int j = 0; j < body.Length;)
        {
            if (body[j] == '\\')
            {
                bmp.Append(body, j, 2);
                j += 2;
                continue;
            }
            int lo = char.ConvertToUtf32(body, j);
            j += lo > 0xFFFF ? 2 : 1;
            int hi = lo;
            if (j + 1 < body.Length && body[j] == '-')
            {
                hi = char.ConvertToUtf32(body, j + 1);
                j += 1 + (hi > 0xFFFF ? 2 : 1);
            }
            if (hi <= 0xFFFF) AppendBmp(bmp, lo, hi);
            else if (lo <= 0xFFFF)
            {
                AppendBmp(bmp, lo, 0xFFFF);
                astral.Add((0x10000, hi));
            }
            else astral.Add((lo, hi));
        }
        var sb = new StringBuilder("(?:");
        bool first = true;
        if (bmp.Length > 0)
        {
            sb.Append('[').Append(bmp).Append(']');
            first = false;
        }
        foreach (var (lo, hi) in astral)
        {
            string a = char.ConvertFromUtf32(lo), b = char.ConvertFromUtf32(hi);
            for (int high = a[0]; high <= b[0]; high++)
            {
                int lowFrom = high == a[0] ? a[1] : 0xDC00, lowTo = high == b[0] ? b[1] : 0xDFFF;
                if (!first) sb.Append('|');
                first = false;
                sb.Append(CultureInfo.InvariantCulture, $@"\u{high:X4}[\u{lowFrom:X4}-\u{lowTo:X4}]");
            }
        }
        return sb.Append(')').ToString();
    }

    private static void AppendBmp(StringBuilder sb, int lo, int hi)
    {
        sb.Append(CultureInfo.InvariantCulture, $@"\u{lo:X4}");
        if (hi != lo) sb.Append(CultureInfo.InvariantCulture, $@"-\u{hi:X4}");
    }
}
