using System;
using System.IO;

namespace LoraSdk.Packages.Tests.Infrastructure;

/// <summary>The repository root (the folder holding <c>LoraSdk.sln</c>) and paths in it.</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "LoraSdk.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("LoraSdk.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => RootLazy.Value;

    public static string Combine(params string[] parts) => Path.Combine(Root, Path.Combine(parts));
}
