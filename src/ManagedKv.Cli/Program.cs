using ManagedKv.Cli.Commands;
using ManagedKv.Cli.Infrastructure;
using ManagedKv.Gguf;

namespace ManagedKv.Cli;

/// <summary>Entry point of the <c>managedkv</c> command.</summary>
public static class Program
{
    /// <summary>Every sub-command, in the order the help lists them.</summary>
    public static IReadOnlyList<ICommand> Commands { get; } =
    [
        new InspectCommand(),
        new GenerateCommand(),
        new BenchCommand(),
        new PressesCommand(),
        new SynthCommand(),
        new EvalCommand(),
        new ParityCommand(),
    ];

    /// <summary>Runs the CLI with <paramref name="args"/>; returns the exit code.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the CLI writing to the given streams (used by tests).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        bool verbose = args.Contains("--verbose");
        args = args.Where(a => a != "--verbose").ToArray();
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintHelp(stdout);
            return 0;
        }
        if (args[0] is "--version" or "version")
        {
            stdout.WriteLine($"managedkv {typeof(Program).Assembly.GetName().Version?.ToString(3)}");
            return 0;
        }

        var command = Commands.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            stderr.WriteLine($"error: unknown command '{args[0]}' (commands: {string.Join(", ", Commands.Select(c => c.Name))})");
            return 2;
        }
        if (args.Skip(1).Any(a => a is "-h" or "--help"))
        {
            stdout.WriteLine(command.Usage);
            return 0;
        }

        try
        {
            var line = new CommandLine(args.Skip(1), command.Switches);
            return command.Run(line, stdout, stderr);
        }
        catch (Exception e) when (!verbose && e is CliException or GgufFormatException or FileNotFoundException
                                      or DirectoryNotFoundException or UnauthorizedAccessException or IOException
                                      or InvalidDataException or NotSupportedException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return e is CliException ? 2 : 1;
        }
        catch (Exception e) when (verbose)
        {
            stderr.WriteLine($"error: {e}");
            return 1;
        }
    }

    private static void PrintHelp(TextWriter stdout)
    {
        stdout.WriteLine("managedkv — KV-cache compression engine for Llama-family models");
        stdout.WriteLine();
        stdout.WriteLine("usage: managedkv <command> [options]   (managedkv <command> --help for details)");
        stdout.WriteLine();
        foreach (var c in Commands) stdout.WriteLine($"  {c.Name,-10} {c.Summary}");
        stdout.WriteLine();
        stdout.WriteLine("  --verbose  print stack traces on errors");
    }
}
