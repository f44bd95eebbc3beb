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
