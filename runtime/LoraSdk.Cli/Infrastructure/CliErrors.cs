using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using LoraSdk.Core;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>
/// Turns any exception that escapes a command into one line and an exit code — never a stack trace. The SDK's own
/// exceptions (<see cref="LoraSdkException"/>) already name the file and the reason; libtorch errors arrive as
/// <see cref="ExternalException"/> with a C++ backtrace, of which only the first line is kept.
/// </summary>
internal static class CliErrors
{
    /// <summary>The exit code and the one-line message for <paramref name="error"/>.</summary>
    public static (int ExitCode, string Message) Describe(Exception error)
    {
        var e = Unwrap(error);
        return e switch
        {
            UsageException => (ExitCodes.Usage, e.Message),
            CliFailure f => (f.ExitCode, f.Message),
            OperationCanceledException => (ExitCodes.Interrupted, "interrupted"),
            OutOfMemoryException => (ExitCodes.OutOfMemory, "not enough memory: " + e.Message),
            ExternalException when IsOutOfMemory(e.Message) => (ExitCodes.OutOfMemory, "not enough memory (libtorch): " + FirstLine(e.Message)),
            ExternalException => (ExitCodes.Failed, "libtorch: " + FirstLine(e.Message)),
            LoraSdkException => (ExitCodes.Failed, e.Message),
            UnauthorizedAccessException => (ExitCodes.Failed, e.Message),
            IOException => (ExitCodes.Failed, e.Message),
            ArgumentException or InvalidOperationException or KeyNotFoundException or NotSupportedException
                or FormatException or IndexOutOfRangeException => (ExitCodes.Failed, e.Message),
            _ => (ExitCodes.Failed, $"internal error ({e.GetType().Name}): {e.Message} (set LORASDK_DEBUG=1 for details)"),
        };
    }

    /// <summary>True for the messages libtorch's allocators use when an allocation fails.</summary>
    public static bool IsOutOfMemory(string message) =>
        message.Contains("not enough memory", StringComparison.OrdinalIgnoreCase)
        || message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase)
        || message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
        || message.Contains("bad_alloc", StringComparison.OrdinalIgnoreCase);

    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
        while (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
        return e;
    }

    private static string FirstLine(string message)
    {
        foreach (var line in message.Split('\n'))
        {
            string trimmed = line.Trim();
            if (trimmed.Length > 0) return trimmed;
        }
        return "(no message)";
    }
}
