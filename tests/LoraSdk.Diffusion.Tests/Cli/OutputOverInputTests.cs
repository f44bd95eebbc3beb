using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using LoraSdk.Cli.Infrastructure;
using LoraSdk.Diffusion.Tests.Flows;
using LoraSdk.Diffusion.Tests.Support;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary>
/// An output path that names one of the command's inputs — the same file or folder (also through a symbolic link), a
/// folder output holding an input, an existing file inside an input folder — is refused up front: exit 2, a line naming
/// both paths and the usage line, and not one file written or changed. Every input here is a copy in a temporary folder,
/// so a regression damages nothing of the repository.
/// </summary>
public sealed class OutputOverInputTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private string LoraCopy(string name = "lora_a")
    {
        string path = Path.Combine(_temp.Path, name + ".safetensors");
        if (!File.Exists(path)) File.Copy(Path.Combine(RepoPaths.Loras, name + ".safetensors"), path);
        return path;
    }

    private string PeftFolderCopy() => _temp.CopyFolder(Path.Combine(SeedFlows.PeftModel("ad", "ikea"), "ikea"), "ikea");

    private string ModelCopy() => _temp.CopyFolder(RepoPaths.TinySdxlPrompt, "model");

    /// <summary>Every file under the temporary folder with a hash of its bytes.</summary>
    private Dictionary<string, string> Snapshot() =>
        Directory.GetFiles(_temp.Path, "*", SearchOption.AllDirectories)
            .ToDictionary(f => f, f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    /// <summary>Runs the command; asserts exit 2, the message naming output and input, the usage line, nothing changed.</summary>
    private void Refused(string[] args, string outputOption, string output, string inputOption, string input, string reason)
    {
        var before = Snapshot();
        var result = CliRun.InProcess(args);
        Assert.Equal(2, result.Code);
        Assert.Equal("", result.Out);
        Assert.Equal(2, result.ErrLines.Length);
        Assert.Equal($"lorasdk {args[0]}: {outputOption} {output} names the {inputOption} input {input}: {reason}; choose another output path", result.ErrLines[0]);
        Assert.StartsWith($"usage: lorasdk {args[0]} ", result.ErrLines[1]);
        var after = Snapshot();
        Assert.Equal(before.Keys.OrderBy(k => k), after.Keys.OrderBy(k => k));
        foreach (var (file, hash) in before) Assert.True(hash == after[file], $"{file} changed");
        Assert.Empty(Directory.GetDirectories(_temp.Path, ".*", SearchOption.AllDirectories));
    }

    private const string Overwrite = "writing it would overwrite that input";
    private const string Holds = "it holds that input, and writing it would replace it";
    private const string Inside = "it is a file inside that input, and writing it would change it";

    [Fact]
    public void MergeOutputOverALoraFileOrPeftFolder()
    {
        string a = LoraCopy();
        string b = LoraCopy("lora_b");
        // cat accepts unequal ranks, so without the check this merge succeeds and overwrites lora_a.
        Refused(new[] { "merge", "--lora", a, "--lora", b, "--combination", "cat", "--out", a }, "--out", a, "--lora", a, Overwrite);
        Refused(new[] { "merge", "--lora", b, "--lora", a, "--combination", "cat", "--out", a, "-q" }, "--out", a, "--lora", a, Overwrite);
        string peft = PeftFolderCopy();
        Refused(new[] { "merge", "--lora", peft, "--combination", "linear", "--peft", "--out", peft + "/" }, "--out", peft + "/", "--lora", peft, Overwrite);
        string weights = Path.Combine(peft, "adapter_model.safetensors");
        Refused(new[] { "merge", "--lora", peft, "--combination", "linear", "--out", weights }, "--out", weights, "--lora", peft, Inside);
    }

    [Fact]
    public void ConvertOutputOverItsInputOrBaseConfig()
    {
        string a = LoraCopy();
        Refused(new[] { "convert", a, "--out", a }, "--out", a, "LoRA", a, Overwrite);
        string config = Path.Combine(_temp.Path, "config.json");
        File.Copy(Path.Combine(RepoPaths.TinySdxlPrompt, "unet", "config.json"), config);
        Refused(new[] { "convert", a, "--base-config", config, "--out", config }, "--out", config, "--base-config", config, Overwrite);
        if (!OperatingSystem.IsWindows())
        {
            // The same file under another name: a symbolic link to the input.
            string link = Path.Combine(_temp.Path, "link.safetensors");
            File.CreateSymbolicLink(link, a);
            Refused(new[] { "convert", link, "--out", a }, "--out", a, "LoRA", link, Overwrite);
            Refused(new[] { "convert", a, "--out", link }, "--out", link, "LoRA", a, Overwrite);
        }
    }

    [Fact]
    public void GenerateOutputsOverALoraLatentsOrModelFile()
    {
        string model = ModelCopy();
        string a = LoraCopy();
        string latents = Path.Combine(_temp.Path, "latents.safetensors");
        File.Copy(LoraCopy("lora_b"), latents); // never read: the check comes first
        string[] Generate(params string[] extra) =>
            new[] { "generate", "--model", model, "--prompt", "a chair", "--steps", "1" }.Concat(extra).ToArray();

        string png = Path.Combine(_temp.Path, "x.png");
        Refused(Generate("--lora", a + ":0.5", "--out", a), "--out", a, "--lora", a, Overwrite);
        Refused(Generate("--latents", latents, "--out", png, "--save-tensor", latents), "--save-tensor", latents, "--latents", latents, Overwrite);
        string unetConfig = Path.Combine(model, "unet", "config.json");
        Refused(Generate("--seed", "1", "--out", png, "--save-tensor", unetConfig), "--save-tensor", unetConfig, "--model", model, Inside);
        Refused(Generate("--seed", "1", "--out", model), "--out", model, "--model", model, Overwrite);
    }

    [Fact]
    public void FuseOutputOverTheModelOrALoraFolder()
    {
        string model = ModelCopy();
        string a = LoraCopy();
        Refused(new[] { "fuse", "--model", model, "--lora", a, "--out", model + "/" }, "--out", model + "/", "--model", model, Overwrite);
        // The folder holding the model: a saved pipeline there would replace it, model included.
        File.Copy(Path.Combine(model, "model_index.json"), Path.Combine(_temp.Path, "model_index.json"));
        Refused(new[] { "fuse", "--model", model, "--lora", a, "--out", _temp.Path }, "--out", _temp.Path, "--model", model, Holds);
        string peft = PeftFolderCopy();
        Refused(new[] { "fuse", "--model", model, "--lora", peft + ":0.5", "--out", peft }, "--out", peft, "--lora", peft, Overwrite);
    }

    [Fact]
    public void PathsThatOnlyLookAlikeAreAccepted()
    {
        string a = LoraCopy();
        string peft = PeftFolderCopy();
        var inputs = new (string?, string)[] { (a, "--lora"), (peft, "--lora"), (null, "--latents") };
        // A name that starts like an input, a new file inside an input folder, a sibling folder: none is an input.
        CliPaths.RequireNotAnInput(a + "2", "--out", inputs);
        CliPaths.RequireNotAnInput(Path.Combine(peft, "preview.png"), "--out", inputs);
        CliPaths.RequireNotAnInput(peft + "-merged", "--out", inputs);
        CliPaths.RequireNotAnInput(Path.Combine(_temp.Path, "out.safetensors"), "--out", inputs);
        // An existing file inside an input folder that the folder is not read from (a preview left in a LoRA folder).
        string preview = Path.Combine(peft, "preview.png");
        File.WriteAllText(preview, "png");
        CliPaths.RequireNotAnInput(preview, "--out", inputs);
        // ... while the same paths written differently are.
        Assert.Throws<UsageException>(() => CliPaths.RequireNotAnInput(Path.Combine(peft, "..", "lora_a.safetensors"), "--out", inputs));
        Assert.Throws<UsageException>(() => CliPaths.RequireNotAnInput(Path.Combine(peft, "adapter_config.json"), "--out", inputs));
    }

    /// <inheritdoc />
    public void Dispose() => _temp.Dispose();
}
