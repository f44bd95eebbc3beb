using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace LoraSdk.Core.Tests;

/// <summary>
/// Every fixture LoRA file must give exactly the modules, ranks, alphas, layer classes and shapes PEFT injected
/// (goldens.json → injected_modules). Text-encoder module names are compared without the <c>text_model.</c> level.
/// </summary>
public sealed class GoldenParityTests
{
    private static readonly Lazy<JsonValue> Goldens = new Lazy<JsonValue>(() =>
        JsonValue.Parse(File.ReadAllText(Path.Combine(TestPaths.Fixtures, "goldens.json"))));

    public static IEnumerable<object[]> Files() => new[]
    {
        // file tag, tag of the injected_modules golden, components to compare, expected format
        new object[] { "lora_a", "lora_a", "unet,text_encoder,text_encoder_2", "peft" },
        new object[] { "lora_b", "lora_b", "unet", "peft" },
        new object[] { "lora_c", "lora_c", "unet", "peft" },
        new object[] { "lora_d", "lora_d", "unet", "peft" },
        new object[] { "lora_a_kohya", "lora_a_kohya", "unet,text_encoder,text_encoder_2", "kohya" },
        new object[] { "lora_a_kohya_converter_raw", "lora_a_kohya_converter_raw", "unet,text_encoder,text_encoder_2", "kohya" },
        new object[] { "lora_a_old_diffusers", "lora_a_old_diffusers", "unet,text_encoder,text_encoder_2", "diffusers_old" },
        new object[] { "lora_a_te_classic_keys", "lora_a_te_classic_keys", "unet,text_encoder,text_encoder_2", "peft" },
        // diffusers fails on this file (huggingface/diffusers#13984); we read it fully: it is lora_a_kohya with
        // `lora_te1_text_model_` keys, so it must equal lora_a_kohya's injected modules.
        new object[] { "lora_a_kohya_te_classic_keys", "lora_a_kohya", "unet,text_encoder,text_encoder_2", "kohya" },
        // save_lora_adapter output (no `unet.` prefix, unprefixed metadata) = lora_a's UNet part.
        new object[] { "lora_a_unet_save_lora_adapter", "lora_a", "unet", "peft" },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void ModulesRanksAlphasAndShapesEqualWhatPeftInjected(string file, string goldenTag, string componentList, string format)
    {
        var model = LoraFileModel.Read(TestPaths.Lora(file));
        var components = componentList.Split(',');
        var golden = Goldens.Value["injected_modules"]![goldenTag]!;

        Assert.Equal(format, model.Format);
        Assert.Empty(model.Unmapped);
        Assert.Empty(model.Unsupported);
        Assert.Empty(model.InvalidModules);
        Assert.Empty(model.Warnings);
        Assert.Equal(components.OrderBy(c => c, StringComparer.Ordinal), model.Components.Keys);
        Assert.Equal(model.Header.Tensors.Count, model.KeyMappings.Count);

        foreach (var component in components)
        {
            var expected = golden[component]!;
            var modules = expected["modules"]!;
            var actual = model.Components[component];
            Assert.Equal(expected["num_modules"]!.AsInt64(), actual.Count);
            var expectedPaths = modules.Properties.Select(p => Canonical(p.Key)).OrderBy(p => p, StringComparer.Ordinal).ToList();
            Assert.Equal(expectedPaths, actual.Keys.ToList());
            foreach (var p in modules.Properties)
            {
                var m = actual[Canonical(p.Key)];
                var e = p.Value;
                string where = $"{file} {component} {p.Key}";
                Assert.True(e["r"]!.AsInt64() == m.Rank, $"{where}: rank {m.Rank}, golden {e["r"]}");
                Assert.True(e["lora_alpha"]!.AsDouble() == m.Alpha, $"{where}: alpha {m.Alpha}, golden {e["lora_alpha"]}");
                Assert.True(e["scaling"]!.AsDouble() == m.Scaling, $"{where}: scaling {m.Scaling}, golden {e["scaling"]}");
                string kind = e["lora_layer_class"]!.AsString();
                Assert.True((kind == "Conv2d" ? LoraLayerKind.Conv2d : LoraLayerKind.Linear) == m.Kind, $"{where}: kind {m.Kind}, golden {kind}");
                Assert.Equal(e["lora_A_shape"]!.Items.Select(x => x.AsInt64()), m.AShape);
                Assert.Equal(e["lora_B_shape"]!.Items.Select(x => x.AsInt64()), m.BShape);
                Assert.Equal(m.AShape![1], m.InFeatures);
                Assert.Equal(m.BShape![0], m.OutFeatures);
                Assert.Null(m.MidKey);
                Assert.False(m.UsesDora);
            }
        }
    }

    [Fact]
    public void TextEncoderModulesOfClassicKeyFilesMapToTheSameCanonicalPaths()
    {
        var plain = LoraFileModel.Read(TestPaths.Lora("lora_a"));
        foreach (var file in new[] { "lora_a_te_classic_keys", "lora_a_kohya", "lora_a_kohya_te_classic_keys", "lora_a_old_diffusers" })
        {
            var other = LoraFileModel.Read(TestPaths.Lora(file));
            foreach (var c in new[] { LoraComponents.TextEncoder, LoraComponents.TextEncoder2 })
                Assert.Equal(plain.Components[c].Keys, other.Components[c].Keys);
        }
        Assert.StartsWith("encoder.layers.", plain.Components[LoraComponents.TextEncoder2].Keys.First(), StringComparison.Ordinal);
    }

    [Fact]
    public void ConverterRawLosesTheUnetAlphaExactlyAsDiffusersDoes()
    {
        // convert_state_dict_to_kohya writes alpha = rank (int64 4): the UNet's lora_alpha 8 becomes 4 (scale 1.0).
        var raw = LoraFileModel.Read(TestPaths.Lora("lora_a_kohya_converter_raw"));
        Assert.All(raw.Components[LoraComponents.Unet].Values, m =>
        {
            Assert.Equal(4.0, m.Alpha);
            Assert.Equal(LoraAlphaSource.Tensor, m.AlphaSource);
            Assert.NotNull(m.AlphaKey);
        });
        var fixedAlpha = LoraFileModel.Read(TestPaths.Lora("lora_a_kohya"));
        Assert.All(fixedAlpha.Components[LoraComponents.Unet].Values, m => Assert.Equal(8.0, m.Alpha));
        Assert.All(fixedAlpha.Components[LoraComponents.TextEncoder2].Values, m => Assert.Equal(4.0, m.Alpha));
    }

    [Fact]
    public void OldDiffusersStateDictWithoutMetadataGetsAlphaEqualToRankLikeDiffusers()
    {
        // goldens: lora_a_old_diffusers_as_dict_no_metadata = load_lora_weights(load_file(...)) — a dict carries no
        // metadata, so diffusers defaults lora_alpha to r (UNet scale 2.0 -> 1.0, output differs from file_lora_a).
        var header = SafetensorsHeader.Read(TestPaths.Lora("lora_a_old_diffusers"));
        var entries = header.Tensors.Select(t => new SafetensorsTensorEntry(t.Name, t.DType, t.Shape)).ToList();
        var bare = SafetensorsHeaderWriter.Build(entries, null);
        var stripped = SafetensorsHeader.Read(new MemoryStream(bare.Concat(new byte[header.FileLength - header.DataOffset]).ToArray()),
            bare.Length + header.FileLength - header.DataOffset, "as_dict_no_metadata");
        var model = LoraFileModel.FromHeader(stripped);
        Assert.Equal(136, model.ModuleCount);
        Assert.All(model.Components.Values.SelectMany(c => c.Values), m =>
        {
            Assert.Equal((4.0, LoraAlphaSource.RankDefault, 1.0), (m.Alpha, m.AlphaSource, m.Scaling));
        });
    }

    [Theory]
    [InlineData("lora_a", LoraAlphaSource.Metadata)]
    [InlineData("lora_a_unet_save_lora_adapter", LoraAlphaSource.Metadata)]
    [InlineData("lora_a_kohya", LoraAlphaSource.Tensor)]
    public void AlphaSourcesFollowThePriority(string file, LoraAlphaSource source)
    {
        var model = LoraFileModel.Read(TestPaths.Lora(file));
        Assert.All(model.Components.Values.SelectMany(c => c.Values), m => Assert.Equal(source, m.AlphaSource));
    }

    [Fact]
    public void LoraBConvModulesCarryKernelStrideAndPadding()
    {
        var model = LoraFileModel.Read(TestPaths.Lora("lora_b"));
        var conv = model.Components[LoraComponents.Unet]["down_blocks.0.resnets.0.conv1"];
        Assert.Equal(LoraLayerKind.Conv2d, conv.Kind);
        Assert.Equal(new[] { 3, 3 }, conv.KernelSize);
        Assert.Equal(new[] { 1, 1 }, conv.Stride);
        Assert.Equal(new[] { 1, 1 }, conv.Padding);
        Assert.Equal(24, model.Components[LoraComponents.Unet].Values.Count(m => m.Kind == LoraLayerKind.Conv2d));
    }

    [Fact]
    public void EveryFixtureKeyMapsToItsModuleAndRole()
    {
        var kohya = LoraFileModel.Read(TestPaths.Lora("lora_a_kohya_te_classic_keys"));
        var byKey = kohya.KeyMappings.ToDictionary(k => k.Key);
        var m = byKey["lora_te1_text_model_encoder_layers_0_self_attn_k_proj.lora_down.weight"];
        Assert.Equal((LoraComponents.TextEncoder, "encoder.layers.0.self_attn.k_proj", LoraTensorRole.A), (m.Component, m.ModulePath, m.Role));
        var a = byKey["lora_unet_down_blocks_1_attentions_1_transformer_blocks_1_attn2_to_out_0.alpha"];
        Assert.Equal((LoraComponents.Unet, "down_blocks.1.attentions.1.transformer_blocks.1.attn2.to_out.0", LoraTensorRole.Alpha), (a.Component, a.ModulePath, a.Role));
    }

    [Fact]
    public void TinyPipelineFilesImplyTheirLayoutOnlyWhenGiven()
    {
        var byDefault = LoraFileModel.Read(TestPaths.Lora("lora_a"));
        Assert.Null(byDefault.ImpliedArchitecture); // 64-wide cross attention fits no public base model
        var tiny = new LoraFileModelOptions
        {
            Unet = UnetLayout.FromUnetConfigJson(File.ReadAllText(TestPaths.TinySdxl("unet/config.json")), "tiny-sdxl"),
            TextEncoder = TextEncoderLayout.FromConfigJson(File.ReadAllText(TestPaths.TinySdxl("text_encoder/config.json"))),
            TextEncoder2 = TextEncoderLayout.FromConfigJson(File.ReadAllText(TestPaths.TinySdxl("text_encoder_2/config.json"))),
        };
        foreach (var file in new[] { "lora_a", "lora_b", "lora_a_kohya_te_classic_keys", "lora_a_old_diffusers" })
        {
            var model = LoraFileModel.Read(TestPaths.Lora(file), tiny);
            Assert.Equal("tiny-sdxl", model.ImpliedArchitecture);
            Assert.Empty(model.CheckCompatibility(tiny.Unet, tiny.TextEncoder, tiny.TextEncoder2));
            Assert.NotEmpty(model.CheckCompatibility(UnetLayout.SdxlBase));
        }
    }

    private static string Canonical(string peftModuleName) =>
        peftModuleName.StartsWith("text_model.", StringComparison.Ordinal) ? peftModuleName.Substring("text_model.".Length) : peftModuleName;
}
