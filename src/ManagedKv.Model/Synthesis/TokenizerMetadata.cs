using System.Globalization;
using ManagedKv.Gguf;

namespace ManagedKv.Model.Synthesis;

/// <summary>
/// Copies a GGUF file's tokenizer (every <c>tokenizer.ggml.*</c> key, in order, with its original GGUF types)
/// for a model with a larger vocabulary: <c>tokens</c>, <c>scores</c> and <c>token_type</c> are padded to the
/// vocabulary size with tokens <c>&lt;pad_N&gt;</c> (N = the token id), score 0 and type USER_DEFINED, as the
/// golden README §10 describes. The values are copied into memory, so the source file can be closed.
/// </summary>
internal static class TokenizerMetadata
{
    private const string Prefix = "tokenizer.ggml.";
    private const string TokensKey = Prefix + "tokens";
    private const string ScoresKey = Prefix + "scores";
    private const string TokenTypeKey = Prefix + "token_type";

    /// <summary>llama.cpp's LLAMA_TOKEN_TYPE_USER_DEFINED.</summary>
    public const int UserDefinedTokenType = 4;

    /// <summary>The tokenizer keys of <paramref name="path"/>, padded to <paramref name="vocabSize"/> tokens.</summary>
    /// <exception cref="GgufFormatException">The file has no token list, more tokens than the vocabulary, or per-token arrays of the wrong length or type.</exception>
    public static List<KeyValuePair<string, GgufValue>> Read(string path, int vocabSize)
    {
        using var file = GgufFile.Open(path);
        var tokens = file.GetArray(TokensKey);
        if (tokens is null || tokens.ElementType != GgufValueType.String)
            throw new GgufFormatException(file.FileName, TokensKey, -1, "the tokenizer source has no string array of tokens");
        if (tokens.Count > vocabSize)
            throw new GgufFormatException(file.FileName, TokensKey, -1, $"{tokens.Count} tokens do not fit a vocabulary of {vocabSize}");

        var result = new List<KeyValuePair<string, GgufValue>>();
        foreach (var (key, value) in file.MetadataInOrder)
        {
            if (!key.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            GgufValue copy = key switch
            {
                TokensKey => Padded(file, key, value, tokens.Count, vocabSize, id => GgufValue.FromString($"<pad_{id.ToString(CultureInfo.InvariantCulture)}>")),
                ScoresKey => Padded(file, key, value, tokens.Count, vocabSize, _ => Number(file, key, value, 0)),
                TokenTypeKey => Padded(file, key, value, tokens.Count, vocabSize, _ => Number(file, key, value, UserDefinedTokenType)),
                _ => Materialize(file, key, value),
            };
            result.Add(new(key, copy));
        }
        return result;
    }

    private static GgufValue Padded(GgufFile file, string key, GgufValue value, long tokenCount, int vocabSize, Func<int, GgufValue> pad)
    {
        if (value.Type != GgufValueType.Array)
            throw new GgufFormatException(file.FileName, key, -1, $"expected a per-token array, found {value.Type}");
        var array = value.AsArray();
        if (array.Count != tokenCount)
            throw new GgufFormatException(file.FileName, key, -1, $"has {array.Count} entries for {tokenCount} tokens");
        var elements = Materialize(file, key, value).AsArray().Elements().ToList();
        for (int id = (int)tokenCount; id < vocabSize; id++) elements.Add(pad(id));
        return GgufValue.FromArray(GgufArray.Of(array.ElementType, elements));
    }

    /// <summary>A number of the array's element type: 0 for any numeric type, other values for integer types only.</summary>
    private static GgufValue Number(GgufFile file, string key, GgufValue array, int number)
    {
        var type = array.AsArray().ElementType;
        bool isInteger = type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16 or GgufValueType.Int16
            or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;
        bool isFloat = type is GgufValueType.Float32 or GgufValueType.Float64;
        if (!(isInteger || (isFloat && number == 0)))
            throw new GgufFormatException(file.FileName, key, -1, $"cannot pad an array of {type} with {number}");
        return GgufValue.FromBits(type, (ulong)number);
    }

    /// <summary>A copy independent of the file: arrays (views over the mapped file) are decoded element by element.</summary>
    private static GgufValue Materialize(GgufFile file, string key, GgufValue value)
    {
        if (value.Type != GgufValueType.Array) return value;
        var array = value.AsArray();
        var elements = array.Elements().Select(e => Materialize(file, key, e)).ToList();
        if (array.ElementType == GgufValueType.String)
        {
            // Decoding replaces invalid UTF-8 by U+FFFD; refuse rather than silently change a token.
            long encoded = elements.Sum(e => 8L + System.Text.Encoding.UTF8.GetByteCount(e.AsString()));
            if (encoded != array.ByteLength)
                throw new GgufFormatException(file.FileName, key, -1, "holds strings that are not valid UTF-8 and cannot be copied exactly");
        }
        return GgufValue.FromArray(GgufArray.Of(array.ElementType, elements));
    }
}
