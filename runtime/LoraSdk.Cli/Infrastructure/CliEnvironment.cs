using System;
using System.IO;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>
/// What a command run sees of the outside world: its output streams, whether stderr is a terminal (progress style),
/// and how much memory the process may use. <see cref="FromConsole"/> is the real process; tests build their own.
/// </summary>
internal sealed class CliEnvironment
{
    /// <summary>Creates an environment writing to <paramref name="output"/> and <paramref name="error"/>.</summary>
    public CliEnvironment(TextWriter output, TextWriter error)
    {
        Output = output ?? throw new ArgumentNullException(nameof(output));
        Error = error ?? throw new ArgumentNullException(nameof(error));
    }

    /// <summary>Results (tables, JSON, "wrote …").</summary>
    public TextWriter Output { get; }

    /// <summary>Errors, warnings and progress.</summary>
    public TextWriter Error { get; }

    /// <summary>True when stderr is an interactive terminal: progress redraws one line; otherwise it prints plain lines.</summary>
    public bool ErrorIsTerminal { get; init; }

    /// <summary>Width of the terminal for progress lines (characters).</summary>
    public int TerminalWidth { get; init; } = 80;

    /// <summary>
    /// Bytes the process may still allocate, or null when unknown. The default is the GC's view of the machine or
    /// container (<see cref="GC.GetGCMemoryInfo()"/>'s <c>TotalAvailableMemoryBytes</c>, which honours cgroup limits
    /// and <c>DOTNET_GCHeapHardLimit</c>) minus what the process already uses.
    /// </summary>
    public Func<long?> AvailableMemoryBytes { get; init; } = DefaultAvailableMemory;

    /// <summary>Whether Ctrl+C / SIGTERM cancel the running command (the real process only).</summary>
    public bool HandleProcessTermination { get; init; }

    /// <summary>Print full exception details instead of one line (<c>LORASDK_DEBUG=1</c>).</summary>
    public bool Debug { get; init; }

    /// <summary>The process's console.</summary>
    public static CliEnvironment FromConsole() => new(Console.Out, Console.Error)
    {
        ErrorIsTerminal = !Console.IsErrorRedirected,
        TerminalWidth = ConsoleWidth(),
        HandleProcessTermination = true,
        Debug = Environment.GetEnvironmentVariable("LORASDK_DEBUG") is "1" or "true",
    };

    private static long? DefaultAvailableMemory()
    {
        long total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (total <= 0) return null;
        return Math.Max(0, total - Environment.WorkingSet);
    }

    private static int ConsoleWidth()
    {
        try
        {
            return Console.IsErrorRedirected ? 80 : Math.Max(20, Console.WindowWidth);
        }
        catch (IOException)
        {
            return 80;
        }
    }
}
