using System;
using System.Linq;
using System.Text.RegularExpressions;
using LoraSdk.Cli;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary><c>--help</c> on the root and on every command: the commands, every option explained with its default, the exit codes.</summary>
public sealed class CliHelpTests
{
    [Fact]
    public void RootHelpListsEveryCommand()
    {
        var result = CliRun.InProcess("--help");
        Assert.Equal(0, result.Code);
        Assert.Equal("", result.Err);
        foreach (var command in LorasdkCli.Commands)
            Assert.Contains(result.Out.Split('\n'), l => l.TrimStart().StartsWith(command.Name, StringComparison.Ordinal) && l.Contains(command.Description[..20], StringComparison.Ordinal));
        Assert.Equal(new[] { "convert", "fuse", "generate", "inspect", "merge", "tokenize" }, LorasdkCli.Commands.Select(c => c.Name));
        Assert.Contains(ExitCodes.HelpText, result.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("convert")]
    [InlineData("fuse")]
    [InlineData("generate")]
    [InlineData("inspect")]
    [InlineData("merge")]
    [InlineData("tokenize")]
    public void EveryOptionOfEveryCommandIsExplained(string name)
    {
        var result = CliRun.InProcess(name, "--help");
        Assert.Equal(0, result.Code);
        var lines = result.Out.Split('\n');
        var command = LorasdkCli.BuildRoot(new LoraSdk.Cli.Infrastructure.CliEnvironment(System.IO.TextWriter.Null, System.IO.TextWriter.Null))
            .Subcommands.Single(c => c.Name == name);
        foreach (var option in command.Options.Where(o => o.Name != "--help"))
        {
            Assert.False(string.IsNullOrWhiteSpace(option.Description), option.Name + " has no description");
            // System.CommandLine lists the shortest spelling first, the option's name first among equally long ones.
            string label = string.Join(", ", option.Aliases.Append(option.Name).OrderBy(a => a.Length).ThenBy(a => a == option.Name ? 0 : 1));
            var line = Assert.Single(lines, l => Regex.IsMatch(l, "^  " + Regex.Escape(label) + "( |$)"));
            Assert.Contains(option.Description![..Math.Min(30, option.Description.Length)], line, StringComparison.Ordinal);
        }
        Assert.Contains(ExitCodes.HelpText, result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void GenerateHelpShowsTheDefaults()
    {
        var output = CliRun.InProcess("generate", "--help").Out;
        Assert.True(output.Split('\n').Count(l => l.Trim().Length > 0) >= 12);
        string Line(string option) => output.Split('\n').Single(l => l.StartsWith("  " + option + " ", StringComparison.Ordinal));
        Assert.Contains("default: 50 for SDXL, 28 for Flux", Line("--steps"), StringComparison.Ordinal);
        Assert.Contains("(default 5)", Line("--guidance"), StringComparison.Ordinal);
        Assert.Contains("(default 3.5)", Line("--guidance"), StringComparison.Ordinal);
        Assert.Contains("Flux only", Line("--max-sequence-length"), StringComparison.Ordinal);
        Assert.Contains("SDXL only", Line("--negative-prompt"), StringComparison.Ordinal);
        Assert.Contains("[default: float32]", Line("--dtype"), StringComparison.Ordinal);
        Assert.Contains("[default: cpu]", Line("--device"), StringComparison.Ordinal);
        Assert.Contains("default weight 1.0", Line("--lora"), StringComparison.Ordinal);
        Assert.Contains("default: random", Line("--seed"), StringComparison.Ordinal);
        Assert.Contains("(REQUIRED)", Line("--model"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("merge", "--combination", "(REQUIRED)")]
    [InlineData("merge", "--lora", "(REQUIRED)")]
    [InlineData("merge", "--lora", "No :weight suffix here; the weights go in --weights.")]
    [InlineData("merge", "--combination", "dare_linear")]
    [InlineData("merge", "--majority-sign", "One of: total, frequency.")]
    [InlineData("fuse", "--lora-scale", "[default: 1]")]
    [InlineData("fuse", "--dtype", "[default: float32]")]
    [InlineData("convert", "--out", "(REQUIRED)")]
    [InlineData("tokenize", "--max-length", "77 for CLIP, 512 for T5")]
    [InlineData("inspect", "--base-config, --unet-config", "FluxTransformer2DModel")]
    public void NewCommandsShowRequiredOptionsChoicesAndDefaults(string command, string option, string text)
    {
        var result = CliRun.InProcess(command, "--help");
        Assert.Equal(0, result.Code);
        var line = Assert.Single(result.Out.Split('\n'), l => l.StartsWith("  " + option + " ", StringComparison.Ordinal));
        Assert.Contains(text, line, StringComparison.Ordinal);
    }

    [Fact]
    public void NoCommandAndUnknownCommandAreUsageErrors()
    {
        var none = CliRun.InProcess();
        Assert.Equal(2, none.Code);
        Assert.Equal("usage: lorasdk <command> [options]  (lorasdk --help lists the commands)", none.ErrLines[^1]);
        var unknown = CliRun.InProcess("frobnicate");
        Assert.Equal(2, unknown.Code);
        Assert.Equal("lorasdk: Unrecognized command or argument 'frobnicate'.", unknown.ErrLines[0]);
    }

    [Fact]
    public void APromptMayStartWithAnAtSign()
    {
        // Response files are off: "@file" is text, not a file to expand.
        var result = CliRun.InProcess("tokenize", "--tokenizer", System.IO.Path.Combine(Support.RepoPaths.TinySdxlPrompt, "tokenizer"), "--prompt", "@nonexistent", "--json");
        Assert.Equal(0, result.Code);
        Assert.Equal("", result.Err);
    }
}
