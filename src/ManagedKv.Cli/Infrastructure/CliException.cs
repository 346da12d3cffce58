namespace ManagedKv.Cli.Infrastructure;

/// <summary>A user error (bad flag, missing file): printed as one line, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);
