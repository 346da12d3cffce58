using System.Diagnostics;
using System.Text;
using ManagedKv.Cli.Infrastructure;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Sampling;
using ManagedKv.Model.Tokenization;

namespace ManagedKv.Cli.Commands;

/// <summary><c>managedkv generate</c>: stream a continuation of a prompt, then print speeds.</summary>
public sealed class GenerateCommand : ICommand
{
    /// <inheritdoc/>
    public string Name => "generate";

    /// <inheritdoc/>
    public string Summary => "generate text from a prompt (llama.cpp-style flags)";

    /// <inheritdoc/>
    public string Usage => "usage: managedkv generate [options]\n" + ModelOptions.Usage + PressOptions.Usage + """
          -p, --prompt TEXT    prompt (default: "Once upon a time")
          -n, --n-predict N    tokens to generate (default: 64; -1 = until EOS or context end)
          --temp T             temperature, 0 = greedy (default: 0.8)
          --seed N             sampling seed (default: 42)
          --top-k N            (default: 40)    --top-p P  (default: 0.95)    --min-p P  (default: 0.05)
          --repeat-penalty P   (default: 1.0)   --repeat-last-n N (default: 64)
          --ignore-eos         never stop at end-of-generation tokens
          --stop TEXT          stop when TEXT appears (repeatable)
        """;

    /// <inheritdoc/>
    public IReadOnlySet<string> Switches { get; } = new HashSet<string> { "--ignore-eos" };

    /// <inheritdoc/>
    public int Run(CommandLine args, TextWriter stdout, TextWriter stderr)
    {
        var model = ModelOptions.Parse(args);
        string prompt = args.String("-p", "--prompt") ?? "Once upon a time";
        int predict = args.Int(64, -1, int.MaxValue, "-n", "--n-predict");
        var sampling = new SamplerOptions
        {
            Temperature = (float)args.Double(0.8, 0, 100, "--temp"),
            Seed = args.Int(42, int.MinValue, int.MaxValue, "--seed", "-s"),
            TopK = args.Int(40, 0, int.MaxValue, "--top-k"),
            TopP = (float)args.Double(0.95, 0, 1, "--top-p"),
            MinP = (float)args.Double(0.05, 0, 1, "--min-p"),
            RepeatPenalty = (float)args.Double(1.0, 0.01, 100, "--repeat-penalty"),
            RepeatLastN = args.Int(64, 0, 1 << 20, "--repeat-last-n"),
        };
        bool ignoreEos = args.Flag("--ignore-eos");
        var stops = args.Strings("--stop");
        var compression = PressOptions.Parse(args);
        args.ThrowOnUnused(0);

        using var source = model.OpenSource();
        var tokenizer = source.CreateTokenizer();
        using var backend = model.CreateBackend();
        using var transformer = model.CreateTransformer(source, backend);
        var session = new Session(transformer, model.CacheType) { Compression = compression.CreateRunner(transformer.Config) };
        var sampler = new Sampler(transformer.VocabSize, sampling);

        int[] promptTokens = tokenizer.Encode(prompt, addSpecial: true);
        if (promptTokens.Length == 0) throw new CliException("the prompt encodes to no tokens");
        int room = transformer.Config.ContextLength - promptTokens.Length;
        if (room <= 0) throw new CliException($"the prompt has {promptTokens.Length} tokens; the context holds {transformer.Config.ContextLength}");
        int limit = predict < 0 ? room : Math.Min(predict, room);

        stdout.Write(prompt);
        stdout.Flush();
        var decoder = new StreamingDecoder(tokenizer);
        var generatedText = new StringBuilder();
        var eog = Enumerable.Range(0, tokenizer.VocabSize).Where(tokenizer.IsEndOfGeneration).ToArray();

        var clock = Stopwatch.StartNew();
        foreach (int t in promptTokens) sampler.Accept(t);
        var logits = session.Prefill(promptTokens);
        double prefillSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        int generated = 0;
        string stopReason = "length";
        while (generated < limit)
        {
            int next = sampler.Sample(logits, ignoreEos ? eog : default);
            generated++;
            if (!ignoreEos && tokenizer.IsEndOfGeneration(next)) { stopReason = "end of generation"; break; }
            sampler.Accept(next);
            string piece = decoder.Append(next);
            stdout.Write(piece);
            stdout.Flush();
            generatedText.Append(piece);
            if (stops.Any(s => generatedText.ToString().Contains(s, StringComparison.Ordinal))) { stopReason = "stop string"; break; }
            if (generated < limit) logits = session.Decode(next);
        }
        stdout.Write(decoder.Flush());
        stdout.WriteLine();
        double decodeSeconds = clock.Elapsed.TotalSeconds;

        stderr.WriteLine();
        stderr.WriteLine($"model: {model.DisplayName}  backend: {backend.Name}  threads: {model.Threads}  stop: {stopReason}");
        stderr.WriteLine($"prompt: {promptTokens.Length} tokens in {prefillSeconds * 1000:F1} ms ({promptTokens.Length / prefillSeconds:F1} tokens/s)");
        int decoded = Math.Max(0, generated - 1);
        stderr.WriteLine($"decode: {decoded} tokens in {decodeSeconds * 1000:F1} ms ({(decoded > 0 ? decoded / decodeSeconds : 0):F1} tokens/s)");
        var cache = session.Cache;
        string presses = session.Compression is null ? "none" : string.Join(" + ", session.Compression.Presses.Select(p => p.Name));
        stderr.WriteLine($"cache: {cache.ByteCount:N0} bytes vs full cache {cache.FullCacheBytes:N0} bytes for {cache.SequenceLength} positions "
            + $"(press: {presses}; effective ratio {(cache.FullCacheBytes == 0 ? 1 : (double)cache.ByteCount / cache.FullCacheBytes):F3} kept)");
        return 0;
    }
}
