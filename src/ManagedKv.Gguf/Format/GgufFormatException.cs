namespace ManagedKv.Gguf;

/// <summary>
/// A model file is malformed or unsupported. The message always names the file, the field being read and
/// the byte offset at which the problem was found, so a user can look at the bytes.
/// </summary>
public sealed class GgufFormatException : Exception
{
    /// <summary>Creates the exception; <paramref name="offset"/> is -1 when no byte offset applies.</summary>
    public GgufFormatException(string file, string field, long offset, string problem, Exception? inner = null)
        : base(Format(file, field, offset, problem), inner)
    {
        FileName = file;
        Field = field;
        Offset = offset;
        Problem = problem;
    }

    /// <summary>The file (path or display name) that was being read.</summary>
    public string FileName { get; }

    /// <summary>The field being read, e.g. <c>tensor_infos[3].dims[1]</c> or <c>metadata["general.alignment"]</c>.</summary>
    public string Field { get; }

    /// <summary>Byte offset in the file where the problem was detected, or -1.</summary>
    public long Offset { get; }

    /// <summary>What is wrong, without the location prefix.</summary>
    public string Problem { get; }

    private static string Format(string file, string field, long offset, string problem) =>
        offset >= 0 ? $"{file}: {field} at byte {offset}: {problem}" : $"{file}: {field}: {problem}";
}
