using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using LoraSdk.Cli;
using LoraSdk.Cli.Infrastructure;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary>Runs the real <c>lorasdk</c> command tree in-process, or the built tool as a child process.</summary>
internal static class CliRun
{
    /// <summary>The result of one run.</summary>
    public sealed record Result(int Code, string Out, string Err)
    {
        /// <summary>Non-empty stderr lines.</summary>
        public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>In-process, stderr not a terminal, real memory figures.</summary>
    public static Result InProcess(params string[] args) => InProcess(terminal: false, availableMemory: null, args);

    /// <summary>In-process with a chosen progress style and (optionally) a fixed amount of available memory.</summary>
    public static Result InProcess(bool terminal, long? availableMemory, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var environment = new CliEnvironment(stdout, stderr)
        {
            ErrorIsTerminal = terminal,
            TerminalWidth = 100,
            AvailableMemoryBytes = availableMemory is long m ? () => m : new CliEnvironment(stdout, stderr).AvailableMemoryBytes,
        };
        int code = LorasdkCli.Run(args, environment);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs the built tool (LoraSdk.Cli.dll next to the tests) as a process with redirected streams.</summary>
    public static Result Process(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "LoraSdk.Cli.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Support.RepoPaths.Root,
        };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("lorasdk " + string.Join(" ", args.Take(3)));
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>True when any line looks like a .NET stack frame.</summary>
    public static bool HasStackTrace(string text) =>
        text.Split('\n').Any(l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal) && l.Contains('('));
}
