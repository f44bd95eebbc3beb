using System;
using System.IO;

namespace LoraSdk.Diffusion.Tests.Support;

/// <summary>Locates the repository (the folder holding <c>LoraSdk.sln</c>) and its fixture folders.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The repository root.</summary>
    public static string Root => RootLazy.Value;

    /// <summary><c>tests/fixtures</c> (tiny-sdxl, loras, goldens, tokenizer goldens).</summary>
    public static string Fixtures => Path.Combine(Root, "tests", "fixtures");

    /// <summary><c>tests/fixtures-prompt</c> (goldens of the prompt pipeline).</summary>
    public static string FixturesPrompt => Path.Combine(Root, "tests", "fixtures-prompt");

    /// <summary><c>tests/fixtures-flux</c> (tiny Flux pipeline, Flux LoRAs, goldens).</summary>
    public static string FixturesFlux => Path.Combine(Root, "tests", "fixtures-flux");

    /// <summary>tests/fixtures-dora (a PEFT DoRA file for the tiny SDXL UNet with diffusers' outputs).</summary>
    public static string FixturesDora => Path.Combine(Root, "tests", "fixtures-dora");

    /// <summary><c>tests/fixtures-flux/tiny-flux</c>.</summary>
    public static string TinyFlux => Path.Combine(FixturesFlux, "tiny-flux");

    /// <summary><c>tests/fixtures/tiny-sdxl</c>.</summary>
    public static string TinySdxl => Path.Combine(Fixtures, "tiny-sdxl");

    /// <summary><c>models/tiny-sdxl-prompt</c> (the embedded default pipeline).</summary>
    public static string TinySdxlPrompt => Path.Combine(Root, "models", "tiny-sdxl-prompt");

    /// <summary><c>tests/fixtures/loras</c>.</summary>
    public static string Loras => Path.Combine(Fixtures, "loras");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LoraSdk.sln"))) return dir.FullName;
            dir = dir.Parent;
        }
        throw new InvalidOperationException($"No LoraSdk.sln above {AppContext.BaseDirectory}");
    }
}
