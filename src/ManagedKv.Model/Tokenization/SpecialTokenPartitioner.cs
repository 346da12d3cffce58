namespace ManagedKv.Model.Tokenization;

/// <summary>
/// llama.cpp's <c>tokenizer_st_partition</c>: before any model-specific tokenization, the text is cut at every
/// occurrence of a special token. Tokens are tried longest text first; each one splits every raw fragment left
/// by the previous ones. Control and unknown tokens take part only when special tokens are parsed; user-defined
/// tokens always do. A token with <see cref="TokenAttributes.LStrip"/>/<see cref="TokenAttributes.RStrip"/>
/// also swallows the ASCII whitespace on that side.
/// </summary>
internal static class SpecialTokenPartitioner
{
    /// <summary>A piece of the input: a special token (<see cref="TokenId"/> ≥ 0) or raw text to tokenize.</summary>
    public readonly record struct Fragment(int TokenId, int Offset, int Length)
    {
        /// <summary>True for raw text.</summary>
        public bool IsText => TokenId < 0;
    }

    /// <summary>Splits <paramref name="text"/>; <paramref name="specialIds"/> must be sorted by text length, longest first.</summary>
    public static List<Fragment> Partition(string text, IReadOnlyList<int> specialIds, string[] tokenTexts, TokenAttributes[] attributes, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        if (text.Length == 0) return fragments;
        fragments.Add(new Fragment(-1, 0, text.Length));
        var next = new List<Fragment>();

        foreach (int id in specialIds)
        {
            var attr = attributes[id];
            if (!parseSpecial && (attr & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0) continue;
            string special = tokenTexts[id];
            if (special.Length == 0) continue;

            next.Clear();
            bool changed = false;
            foreach (var fragment in fragments)
            {
                if (!fragment.IsText)
                {
                    next.Add(fragment);
                    continue;
                }
                int offset = fragment.Offset, length = fragment.Length;
                while (length > 0)
                {
                    int match = text.AsSpan(offset, length).IndexOf(special, StringComparison.Ordinal);
                    if (match < 0) break;
                    match += offset;
                    changed = true;

                    int leftLength = match - offset;
                    if ((attr & TokenAttributes.LStrip) != 0)
                        while (leftLength > 0 && IsCSpace(text[offset + leftLength - 1])) leftLength--;
                    if (leftLength > 0) next.Add(new Fragment(-1, offset, leftLength));

                    next.Add(new Fragment(id, match, special.Length));

                    int rightOffset = match + special.Length;
                    int rightLength = offset + length - rightOffset;
                    if ((attr & TokenAttributes.RStrip) != 0)
                        while (rightLength > 0 && IsCSpace(text[rightOffset]))
                        {
                            rightOffset++;
                            rightLength--;
                        }
                    offset = rightOffset;
                    length = rightLength;
                }
                if (length > 0) next.Add(new Fragment(-1, offset, length));
            }
            if (changed) (fragments, next) = (next, fragments);
        }
        return fragments;
    }

    // C isspace() in the "C" locale, which llama.cpp uses for the strip attributes.
    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
}
