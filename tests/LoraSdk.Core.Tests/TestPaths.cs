using System;
using System.IO;

namespace LoraSdk.Core.Tests;

/// <summary>Locates the repository (the folder holding LoraSdk.sln) and its fixtures.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> Root = new Lazy<string>(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "LoraSdk.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("LoraSdk.sln not found above " + AppContext.BaseDirectory);
    });

    public static string RepoRoot => Root.Value;

    public static string Fixtures => Path.Combine(RepoRoot, "tests", "fixtures");

    public static string Lora(string tag) => Path.Combine(Fixtures, "loras", tag + ".safetensors");

    public static string TinySdxl(string relative) => Path.Combine(Fixtures, "tiny-sdxl", relative);

    public static string FixturesFlux => Path.Combine(RepoRoot, "tests", "fixtures-flux");

    public static string FluxLora(string tag) => Path.Combine(FixturesFlux, "loras", tag + ".safetensors");

    /// <summary>A fresh temporary directory deleted by the caller's <c>using</c>.</summary>
    public static TempDirectory TempDir() => new TempDirectory();
}

internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lorasdk-formats-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
