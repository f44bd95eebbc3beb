using System;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>
/// A failure the command detected itself (an input that is a directory, a missing file, not enough memory), with the
/// exit code to return. The message is the one line shown to the user.
/// </summary>
internal sealed class CliFailure : Exception
{
    /// <summary>Creates the failure.</summary>
    public CliFailure(string message, int exitCode = ExitCodes.Failed) : base(message)
    {
        ExitCode = exitCode;
    }

    /// <summary>The process exit code.</summary>
    public int ExitCode { get; }
}
