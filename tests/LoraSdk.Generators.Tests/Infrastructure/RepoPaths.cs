using System;
using System.IO;

namespace LoraSdk.Generators.Tests.Infrastructure;

/// <summary>Finds the repository root (the folder with LoraSdk.sln) above the test binaries.</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new Lazy<string>(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "LoraSdk.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("LoraSdk.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => LazyRoot.Value;

    /// <summary>The configuration these tests were built in (Debug/Release); end-to-end builds use the same.</summary>
    public static string Configuration { get; } =
        typeof(RepoPaths).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            is [System.Reflection.AssemblyConfigurationAttribute a, ..] ? a.Configuration : "Debug";

    public static string Fixtures => Path.Combine(Root, "tests", "fixtures");

    public static string Lora(string name) => Path.Combine(Fixtures, "loras", name + ".safetensors");

    public static string Combine(params string[] parts) => Path.Combine(Root, Path.Combine(parts));
}
