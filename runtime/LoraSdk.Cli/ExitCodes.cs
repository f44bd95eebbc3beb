namespace LoraSdk.Cli;

/// <summary>
/// The process exit codes of every <c>lorasdk</c> command (documented in docs/cli.md). Every non-zero code comes with
/// exactly one line <c>lorasdk &lt;command&gt;: &lt;reason&gt;</c> on stderr (a usage error adds a usage line).
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary>
    /// The operation failed: an input is missing, unreadable or invalid (model folder, LoRA file, latents, config), an
    /// output cannot be written, or libtorch reported an error. Nothing was written (outputs are replaced atomically).
    /// </summary>
    public const int Failed = 1;

    /// <summary>The command line is invalid: unknown command or option, missing or malformed value, a number out of range.</summary>
    public const int Usage = 2;

    /// <summary>Refused or stopped for lack of memory: the up-front estimate exceeds the memory available, or libtorch ran out.</summary>
    public const int OutOfMemory = 3;

    /// <summary>Interrupted (Ctrl+C / SIGINT / SIGTERM), like a shell's 128 + SIGINT.</summary>
    public const int Interrupted = 130;

    /// <summary>One line per code, for <c>--help</c>.</summary>
    public const string HelpText =
        "Exit codes: 0 ok; 1 operation failed (input missing or invalid, output not writable, libtorch error); " +
        "2 usage error; 3 not enough memory; 130 interrupted.";
}
