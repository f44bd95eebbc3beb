using System;
using System.IO;
using System.Linq;
using LoraSdk.Cli.Commands;

namespace LoraSdk.Core.Tests;

/// <summary>The <c>lorasdk inspect</c> JSON contract and the command's exit codes (the real command, in-process).</summary>
public sealed class InspectTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = InspectCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void JsonHasTheDocumentedShape()
    {
        var (code, output, err) = Run(TestPaths.Lora("lora_a"), "--json");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        var doc = JsonValue.Parse(output);
        Assert.Equal(new[] { "version", "format", "formats", "tensorCount", "moduleCount", "components", "unmapped", "unsupported",
            "invalid", "warnings", "triggerWords", "architecture", "usesRsLora", "usesDora", "ignored" }, doc.Properties.Select(p => p.Key));
        Assert.Equal(1, doc["version"]!.AsInt64());
        Assert.Equal("peft", doc["format"]!.AsString());
        Assert.Equal(272, doc["tensorCount"]!.AsInt64());
        Assert.Equal(136, doc["moduleCount"]!.AsInt64());
        var components = doc["components"]!;
        Assert.Equal(new[] { "text_encoder", "text_encoder_2", "unet" }, components.Properties.Select(p => p.Key));
        var unet = components["unet"]!;
        Assert.Equal(96, unet["moduleCount"]!.AsInt64());
        var q = unet["modules"]!["down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q"]!;
        Assert.Equal(4, q["rank"]!.AsInt64());
        Assert.Equal("8.0", q["alpha"]!.NumberText); // always a float
        Assert.Equal("linear", q["kind"]!.AsString());
        Assert.Equal("metadata", q["alphaSource"]!.AsString());
        Assert.Equal(2.0, q["scaling"]!.AsDouble());
        Assert.True(q["kernelSize"]!.IsNull);
        Assert.Equal("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight", q["keys"]!["down"]!.AsString());
        var te2 = components["text_encoder_2"]!["modules"]!["encoder.layers.4.self_attn.out_proj"]!;
        Assert.Equal(4.0, te2["alpha"]!.AsDouble());
        Assert.Empty(doc["unmapped"]!.Items);
        Assert.Empty(doc["unsupported"]!.Items);
        Assert.Empty(doc["triggerWords"]!.Items);
        Assert.True(doc["architecture"]!["declared"]!.IsNull);
        Assert.True(doc["architecture"]!["implied"]!.IsNull);
        Assert.Equal(JsonValueKind.False, doc["usesRsLora"]!.Kind);
    }

    [Fact]
    public void ConvModulesReportKindAndKernel()
    {
        var doc = JsonValue.Parse(Run(TestPaths.Lora("lora_b"), "--json").Out);
        var conv = doc["components"]!["unet"]!["modules"]!["up_blocks.1.resnets.2.conv1"]!;
        Assert.Equal("conv2d", conv["kind"]!.AsString());
        Assert.Equal(new long[] { 3, 3 }, conv["kernelSize"]!.Items.Select(i => i.AsInt64()));
        Assert.Equal((64L, 32L), (conv["inFeatures"]!.AsInt64(), conv["outFeatures"]!.AsInt64()));
        Assert.Equal("0.5", conv["scaling"]!.NumberText);
    }

    [Fact]
    public void UnetConfigOptionMakesTheTinyLayoutTheImpliedArchitecture()
    {
        var (code, output, _) = Run("--json", "--unet-config", TestPaths.TinySdxl("unet/config.json"), TestPaths.Lora("lora_a_kohya_te_classic_keys"));
        Assert.Equal(0, code);
        var doc = JsonValue.Parse(output);
        Assert.Equal("custom", doc["architecture"]!["implied"]!.AsString());
        Assert.Equal("kohya", doc["format"]!.AsString());
        Assert.Equal(20, doc["components"]!["text_encoder"]!["moduleCount"]!.AsInt64());
    }

    [Fact]
    public void JsonOutputIsDeterministic()
    {
        var a = Run(TestPaths.Lora("lora_a_kohya"), "--json").Out;
        var b = Run(TestPaths.Lora("lora_a_kohya"), "--json").Out;
        Assert.Equal(a, b);
        Assert.Equal(LoraInspectJson.Write(LoraFileModel.Read(TestPaths.Lora("lora_a_kohya"))) + Environment.NewLine, a);
    }

    [Fact]
    public void UnmappedAndUnsupportedKeysStillExitZero()
    {
        using var dir = TestPaths.TempDir();
        string path = dir.File("odd.safetensors");
        File.WriteAllBytes(path, new SyntheticFile()
            .Linear("lora_unet_down_blocks_1_attentions_0_proj_in.lora_down.weight", "lora_unet_down_blocks_1_attentions_0_proj_in.lora_up.weight", 4, 640, 640)
            .Tensor("lora_unet_down_blocks_1_attentions_0_proj_out.oft_blocks", 4, 640)
            .Tensor("mystery", 2)
            .Build());
        var (code, output, err) = Run(path, "--json");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        var doc = JsonValue.Parse(output);
        Assert.Equal(new[] { "mystery" }, doc["unmapped"]!.Items.Select(i => i.AsString()));
        var u = Assert.Single(doc["unsupported"]!.Items);
        Assert.Equal("oft", u["variant"]!.AsString());
        var table = Run(path);
        Assert.Equal(0, table.Code);
        Assert.Contains("unmapped keys (1):", table.Out, StringComparison.Ordinal);
        Assert.Contains("oft: 1 keys", table.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void TableListsEveryModule()
    {
        var (code, output, _) = Run(TestPaths.Lora("lora_b"));
        Assert.Equal(0, code);
        Assert.Contains("format:        peft", output, StringComparison.Ordinal);
        Assert.Contains("unet: 108 modules", output, StringComparison.Ordinal);
        Assert.Contains("down_blocks.0.resnets.0.conv1", output, StringComparison.Ordinal);
        Assert.Contains("conv2d 3x3", output, StringComparison.Ordinal);
        Assert.Equal(108, output.Split('\n').Count(l => l.StartsWith("  down_blocks.", StringComparison.Ordinal)
            || l.StartsWith("  mid_block.", StringComparison.Ordinal) || l.StartsWith("  up_blocks.", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("malformed")]
    [InlineData("pickle")]
    [InlineData("bad-config")]
    public void UnreadableInputsExitOneWithOneLineOnStderr(string what)
    {
        using var dir = TestPaths.TempDir();
        string path = dir.File("x.safetensors");
        string[] args = { path };
        switch (what)
        {
            case "malformed":
                File.WriteAllBytes(path, new byte[] { 255, 255, 255, 255, 255, 255, 255, 255, 1, 2 });
                break;
            case "pickle":
                path = dir.File("x.ckpt");
                File.WriteAllBytes(path, new byte[] { 0x80, 0x02 });
                args = new[] { path };
                break;
            case "bad-config":
                File.WriteAllBytes(path, new SyntheticFile().Tensor("a", 1).Build());
                File.WriteAllText(dir.File("config.json"), "{\"down_block_types\": 3}");
                args = new[] { path, "--unet-config", dir.File("config.json") };
                break;
        }
        var (code, output, err) = Run(args);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        var lines = err.Split(new[] { Environment.NewLine }, StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("lorasdk inspect: ", line, StringComparison.Ordinal);
        if (what == "pickle") Assert.Contains("pickle", line, StringComparison.Ordinal);
        if (what == "malformed") Assert.Contains("header length", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData]
    [InlineData("a.safetensors", "b.safetensors")]
    [InlineData("a.safetensors", "--jsn")]
    [InlineData("a.safetensors", "--unet-config")]
    public void UsageErrorsExitTwo(params string[] args)
    {
        var (code, output, err) = Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains(InspectCommand.Usage, err, StringComparison.Ordinal);
    }

    [Fact]
    public void HelpExplainsEveryOptionAndTheExitCodes()
    {
        var (code, output, err) = Run("--help");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Contains("lorasdk inspect <file.safetensors> [options]", output, StringComparison.Ordinal);
        foreach (var option in new[] { "--base-config, --unet-config <config.json>", "--text-encoder-config <config.json>", "--text-encoder-2-config <config.json>", "--json" })
        {
            var line = Assert.Single(output.Split('\n'), l => l.TrimStart().StartsWith(option, StringComparison.Ordinal));
            Assert.True(line.Length > option.Length + 20, "no explanation for " + option + ": " + line);
        }
        Assert.Contains("Exit codes: 0 ok", output, StringComparison.Ordinal);
    }

    private static string TinyFluxTransformerConfig => Path.Combine(TestPaths.FixturesFlux, "tiny-flux", "transformer", "config.json");

    /// <summary>
    /// Flux files are reported under <c>transformer</c> at diffusers module paths with the rank and alpha diffusers'
    /// load_lora_weights gives each module (tests/fixtures-flux goldens.json → <c>injected_modules</c>; kohya files with
    /// alpha/rank folded into the weights, i.e. alpha = rank), read against the tiny transformer's config.
    /// </summary>
    [Theory]
    [InlineData("flux_lora_a", "peft")]
    [InlineData("flux_lora_b", "peft")]
    [InlineData("flux_lora_a_kohya", "kohya_flux")]
    public void FluxFilesAreReportedUnderTransformerWithDiffusersRanksAndAlphas(string file, string format)
    {
        var (code, output, err) = Run(TestPaths.FluxLora(file), "--base-config", TinyFluxTransformerConfig, "--json");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        var doc = JsonValue.Parse(output);
        Assert.Equal(format, doc["format"]!.AsString());
        var golden = JsonValue.Parse(File.ReadAllText(Path.Combine(TestPaths.FixturesFlux, "goldens.json")))["injected_modules"]![file]!;
        var expected = golden["transformer"]!["modules"]!;
        var modules = doc["components"]!["transformer"]!["modules"]!;
        Assert.Equal(expected.Properties.Select(p => p.Key).OrderBy(k => k, StringComparer.Ordinal), modules.Properties.Select(p => p.Key));
        foreach (var (path, module) in expected.Properties)
        {
            Assert.Equal(module["r"]!.AsInt64(), modules[path]!["rank"]!.AsInt64());
            Assert.Equal(module["lora_alpha"]!.AsDouble(), modules[path]!["alpha"]!.AsDouble());
            Assert.Equal(module["scaling"]!.AsDouble(), modules[path]!["scaling"]!.AsDouble(), 12);
        }
        // flux_lora_b also adapts the CLIP text encoder (20 modules); nothing lands under unet.
        Assert.Equal(file == "flux_lora_b" ? new[] { "text_encoder", "transformer" } : new[] { "transformer" },
            doc["components"]!.Properties.Select(p => p.Key));
        if (file == "flux_lora_b") Assert.Equal(golden["text_encoder"]!["num_modules"]!.AsInt64(), doc["components"]!["text_encoder"]!["moduleCount"]!.AsInt64());
        Assert.Equal("custom", doc["architecture"]!["implied"]!.AsString());
    }

    [Fact]
    public void UnetConfigIsAnAliasOfBaseConfigForEitherKind()
    {
        var viaBase = Run("--json", "--base-config", TestPaths.TinySdxl("unet/config.json"), TestPaths.Lora("lora_a_kohya_te_classic_keys"));
        var viaAlias = Run("--json", "--unet-config", TestPaths.TinySdxl("unet/config.json"), TestPaths.Lora("lora_a_kohya_te_classic_keys"));
        Assert.Equal(0, viaBase.Code);
        Assert.Equal(viaAlias.Out, viaBase.Out);
        Assert.Equal("custom", JsonValue.Parse(viaBase.Out)["architecture"]!["implied"]!.AsString());
        var fluxViaAlias = Run("--json", "--unet-config", TinyFluxTransformerConfig, TestPaths.FluxLora("flux_lora_a_kohya"));
        Assert.Equal(Run("--json", "--base-config", TinyFluxTransformerConfig, TestPaths.FluxLora("flux_lora_a_kohya")).Out, fluxViaAlias.Out);
        Assert.Equal(26, JsonValue.Parse(fluxViaAlias.Out)["components"]!["transformer"]!["moduleCount"]!.AsInt64());
    }

    [Fact]
    public void FluxTableListsTheTransformerModules()
    {
        var (code, output, _) = Run(TestPaths.FluxLora("flux_lora_a"));
        Assert.Equal(0, code);
        Assert.Contains("transformer: 34 modules", output, StringComparison.Ordinal);
        var line = Assert.Single(output.Split('\n'), l => l.TrimStart().StartsWith("transformer_blocks.0.attn.to_q ", StringComparison.Ordinal));
        Assert.Matches(@"linear\s+4\s+8\s+2\s+32 -> 32", line);
    }
}
