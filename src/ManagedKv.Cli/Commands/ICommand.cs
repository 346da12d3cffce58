using ManagedKv.Cli.Infrastructure;

namespace ManagedKv.Cli.Commands;

/// <summary>One <c>managedkv</c> sub-command.</summary>
public interface ICommand
{
    /// <summary>The word that selects it, e.g. <c>inspect</c>.</summary>
    string Name { get; }

    /// <summary>One line for the command list.</summary>
    string Summary { get; }

    /// <summary>Usage text printed by <c>managedkv NAME --help</c>.</summary>
    string Usage { get; }

    /// <summary>Flags of this command that take no value.</summary>
    IReadOnlySet<string> Switches { get; }

    /// <summary>Runs the command; returns the process exit code.</summary>
    int Run(CommandLine args, TextWriter stdout, TextWriter stderr);
}
