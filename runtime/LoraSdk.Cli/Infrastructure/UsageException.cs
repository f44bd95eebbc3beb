using System;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>
/// A command line that parses but makes no sense (two exclusive options, a value the loaded model cannot take).
/// Thrown by a command's action; reported like a parse error with exit code <see cref="ExitCodes.Usage"/>.
/// </summary>
internal sealed class UsageException : Exception
{
    /// <summary>Creates the exception; <paramref name="message"/> is the one line shown to the user.</summary>
    public UsageException(string message) : base(message) { }
}
