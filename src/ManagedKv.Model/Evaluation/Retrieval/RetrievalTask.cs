using ManagedKv.Model.Synthesis;

namespace ManagedKv.Model.Evaluation.Retrieval;

/// <summary>
/// A retrieval prompt family: instruction, filler, a needle sentence holding a random digit key, and the question
/// whose answer is the key. <see cref="Passkey"/> is LagKV's evaluation prompt; <see cref="Needle"/> a configurable
/// needle-in-a-haystack one.
/// </summary>
/// <param name="Kind">passkey or needle.</param>
/// <param name="Instruction">Text before the content.</param>
/// <param name="NeedleTemplate">The needle sentence; <see cref="KeyPlaceholder"/> marks where the key goes.</param>
/// <param name="Question">Text after the content (ends where the model's answer begins).</param>
/// <param name="Filler">The filler file's text (repeated as needed).</param>
/// <param name="Digits">Digits of the key.</param>
public sealed record RetrievalTask(string Kind, string Instruction, string NeedleTemplate, string Question, string Filler, int Digits)
{
    /// <summary>Where the key goes in a needle template.</summary>
    public const string KeyPlaceholder = "{key}";

    /// <summary>longctx_bench's copyright-free filler (<c>background/synthetic/grass_sky_sun.txt</c>, one line).</summary>
    public const string GrassSkySun = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.\n";

    /// <summary>The passkey instruction (LagKV's evaluation, longctx_bench config).</summary>
    public const string PasskeyInstruction =
        "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information there.\n";

    /// <summary>The passkey needle.</summary>
    public const string PasskeyNeedle = "The pass key is {key}. Remember it. {key} is the pass key.";

    /// <summary>The passkey question; the answer follows it.</summary>
    public const string PasskeyQuestion = "\nWhat is the pass key? The pass key is ";

    /// <summary>The default needle of <see cref="Needle"/>.</summary>
    public const string MagicNumberNeedle = "The special magic number is {key}.";

    /// <summary>The default question of <see cref="Needle"/>.</summary>
    public const string MagicNumberQuestion = "\nWhat is the special magic number? The special magic number is ";

    /// <summary>LagKV's passkey task with a key of <paramref name="digits"/> digits (5 or 64 in the paper's settings).</summary>
    public static RetrievalTask Passkey(int digits = 64) =>
        Validated(new RetrievalTask("passkey", PasskeyInstruction, PasskeyNeedle, PasskeyQuestion, GrassSkySun, digits));

    /// <summary>A needle-in-a-haystack task (defaults: the magic-number needle and question, no instruction, grass/sky/sun filler).</summary>
    public static RetrievalTask Needle(string? needle = null, string? question = null, string? instruction = null, string? filler = null, int digits = 7) =>
        Validated(new RetrievalTask("needle", instruction ?? "", needle ?? MagicNumberNeedle, question ?? MagicNumberQuestion, filler ?? GrassSkySun, digits));

    /// <summary>The full prompt: instruction + content with the needle at <paramref name="depth"/> + question.</summary>
    public string Prompt(int words, double depth, string key) =>
        Instruction + Haystack.Insert(Haystack.Background(Filler, words), NeedleTemplate.Replace(KeyPlaceholder, key, StringComparison.Ordinal), depth) + Question;

    /// <summary>
    /// The key of one grid cell: <see cref="Digits"/> uniform digits (a leading 0 allowed, as longctx_bench draws
    /// them) from a PCG64 stream seeded by (seed, words, depth, sample), so a cell's key does not depend on which
    /// other cells run or in what order.
    /// </summary>
    public string Key(int seed, int words, double depth, int sample)
    {
        ulong mixed = Mix(Mix(Mix((ulong)(uint)seed) ^ (ulong)(uint)words) ^ (ulong)BitConverter.DoubleToInt64Bits(depth)) ^ (ulong)(uint)sample;
        var rng = Pcg64.FromSeed(Mix(mixed));
        var key = new char[Digits];
        for (int i = 0; i < key.Length; i++)
        {
            uint x;
            do x = rng.NextUInt32(); while (x >= 4_294_967_290u); // the largest multiple of 10 below 2^32: unbiased digits
            key[i] = (char)('0' + x % 10);
        }
        return new string(key);
    }

    /// <summary>A key of the right length for measuring prompt sizes (digits 0–9 cycled).</summary>
    public string RepresentativeKey() => new(Enumerable.Range(0, Digits).Select(i => (char)('0' + (i * 7 + 3) % 10)).ToArray());

    private static RetrievalTask Validated(RetrievalTask task)
    {
        if (task.Digits is < 1 or > 4096) throw new ArgumentException($"digits must be in [1, 4096], got {task.Digits}");
        if (!task.NeedleTemplate.Contains(KeyPlaceholder, StringComparison.Ordinal))
            throw new ArgumentException($"the needle '{task.NeedleTemplate}' has no {KeyPlaceholder} placeholder for the key");
        if (Haystack.Words(task.Filler).Count == 0) throw new ArgumentException("the filler text has no words");
        return task;
    }

    // splitmix64's finaliser: spreads every input bit over the seed.
    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
