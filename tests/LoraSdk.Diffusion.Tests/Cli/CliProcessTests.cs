using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using LoraSdk.Diffusion.Tests.Support;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary>
/// The built tool as a real process with redirected streams: what a script or CI log sees, including libtorch's own
/// stderr output and the process's real memory limit.
/// </summary>
public sealed class CliProcessTests
{
    [Fact]
    public void RedirectedProgressIsWholeLinesBetweenWhateverLibtorchPrints()
    {
        using var temp = new TempFolder();
        string png = Path.Combine(temp.Path, "x.png");
        var result = CliRun.Process(null, "generate", "--model", RepoPaths.TinySdxlPrompt, "--prompt", "a chair", "--seed", "1", "--steps", "3", "--threads", "1", "--out", png);
        Assert.True(result.Code == 0, result.Err);
        Assert.True(File.Exists(png));
        var ours = result.ErrLines.Where(l => l.Contains("lorasdk", System.StringComparison.Ordinal)).ToList();
        Assert.All(ours, l => Assert.StartsWith("lorasdk generate: ", l)); // nothing glued in front of our lines
        for (int step = 1; step <= 3; step++)
            Assert.Single(ours, l => Regex.IsMatch(l, $@"^lorasdk generate: step {step}/3 \(t=[0-9.]+\)$"));
        Assert.False(CliRun.HasStackTrace(result.Err));
        Assert.StartsWith("wrote ", result.Out);
    }

    [Fact]
    public void TheProcesssMemoryLimitIsHonouredUpFront()
    {
        using var temp = new TempFolder();
        // A 1 GiB limit (the GC reports it, as it reports a container's cgroup limit): 1024 x 1024 with the tiny model needs more.
        var environment = new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x40000000" };
        var result = CliRun.Process(environment, "generate", "--model", RepoPaths.TinySdxlPrompt, "--prompt", "x", "--seed", "1", "--steps", "1",
            "--width", "1024", "--height", "1024", "--out", Path.Combine(temp.Path, "x.png"));
        Assert.Equal(3, result.Code);
        Assert.Matches(@"^lorasdk generate: a 1024x1024 image with this model in float32 needs about [0-9.]+ GiB of memory, but only [0-9.]+ GiB is available", result.ErrLines[^1]);
        Assert.False(File.Exists(Path.Combine(temp.Path, "x.png")));
        Assert.False(CliRun.HasStackTrace(result.Err));
    }

    [Fact]
    public async System.Threading.Tasks.Task SigtermStopsBetweenStepsWithExit130AndWritesNothing()
    {
        using var temp = new TempFolder();
        string png = Path.Combine(temp.Path, "x.png");
        var info = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var a in new[] { Path.Combine(System.AppContext.BaseDirectory, "LoraSdk.Cli.dll"), "generate", "--model", RepoPaths.TinySdxlPrompt,
                     "--prompt", "x", "--seed", "1", "--steps", "1000", "--threads", "1", "--out", png })
            info.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var lines = new List<string>();
        string? line;
        while ((line = process.StandardError.ReadLine()) != null)
        {
            lines.Add(line);
            if (line.StartsWith("lorasdk generate: step 2/1000", System.StringComparison.Ordinal)) break;
        }
        Assert.NotNull(line);
        using (var kill = System.Diagnostics.Process.Start("kill", new[] { "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) })) kill!.WaitForExit();
        lines.AddRange(process.StandardError.ReadToEnd().Split('\n', System.StringSplitOptions.RemoveEmptyEntries));
        Assert.True(process.WaitForExit(60_000));
        Assert.Equal(130, process.ExitCode);
        Assert.Equal("lorasdk generate: interrupted", lines[^1]);
        Assert.Equal("", await stdout);
        Assert.False(File.Exists(png));
    }

    [Fact]
    public void UsageErrorsAndHelpFromTheRealProcess()
    {
        var help = CliRun.Process(null, "generate", "--help");
        Assert.Equal(0, help.Code);
        Assert.Contains("--guidance <G>", help.Out, System.StringComparison.Ordinal);
        var bad = CliRun.Process(null, "generate", "--model", RepoPaths.TinySdxlPrompt, "--prompt", "x", "--out", "x.png", "--width", "1000000");
        Assert.Equal(2, bad.Code);
        Assert.Equal(2, bad.ErrLines.Length);
    }
}
