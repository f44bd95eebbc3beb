using System;
using System.Diagnostics;
using System.Text;

namespace LoraSdk.Generators.Tests.Infrastructure;

/// <summary>Runs the dotnet CLI (no node reuse, no compiler server, so no process outlives the test).</summary>
internal static class DotnetCli
{
    public static (int ExitCode, string Output) Run(string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["UseSharedCompilation"] = "false";
        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit((int)timeout.TotalMilliseconds))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(" ", arguments)} did not finish in {timeout}:\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    /// <summary>Builds, retrying once when another build holds a shared output (the machine is shared).</summary>
    public static (int ExitCode, string Output) Build(string workingDirectory, params string[] arguments)
    {
        var args = new[] { "build", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false" };
        var result = Run(workingDirectory, TimeSpan.FromMinutes(8), Concat(args, arguments));
        if (result.ExitCode != 0 && (result.Output.Contains("MSB3021") || result.Output.Contains("MSB3026") || result.Output.Contains("being used by another process")))
        {
            System.Threading.Thread.Sleep(20_000);
            result = Run(workingDirectory, TimeSpan.FromMinutes(8), Concat(args, arguments));
        }
        return result;
    }

    private static string[] Concat(string[] a, string[] b)
    {
        var all = new string[a.Length + b.Length];
        a.CopyTo(all, 0);
        b.CopyTo(all, a.Length);
        return all;
    }
}
