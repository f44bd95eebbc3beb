using System;
using System.Diagnostics;
using LoraSdk.Generators.Tests.Infrastructure;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// `dotnet pack` output: generators/pack-smoke.sh packs LoraSdk.Typed and LoraSdk.Generators into a local folder feed,
/// checks the layout (analyzers/dotnet/cs, build/, tasks/), and builds + runs a fresh project that uses only the packages.
/// </summary>
[Collection(EndToEndCollection.Name)]
public class PackageTests
{
    [Fact]
    public async System.Threading.Tasks.Task PackedPackagesWorkInAFreshProject()
    {
        using var temp = new TempFolder("lorasdk-pack-");
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(RepoPaths.Combine("generators", "pack-smoke.sh"));
        info.ArgumentList.Add(temp.Path);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var cancel = new System.Threading.CancellationTokenSource(TimeSpan.FromMinutes(12));
        await process.WaitForExitAsync(cancel.Token);
        string output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, output);
        Assert.Contains("ok analyzers/dotnet/cs/LoraSdk.Generators.dll", output);
        Assert.Contains("ok build/LoraSdk.Generators.targets", output);
        Assert.Contains("ok tasks/netstandard2.0/LoraSdk.Build.dll", output);
        Assert.Contains("Style rank=8 alpha=4 modules=108 copied=True", output);
        Assert.EndsWith("PACK SMOKE OK", output.TrimEnd());
    }
}
