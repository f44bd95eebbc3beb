using System.Collections.Generic;

namespace LoraSdk.Core.Tests;

/// <summary>Trigger words and declared architecture from <c>__metadata__</c>.</summary>
public sealed class MetadataTests
{
    [Fact]
    public void TriggerPhraseIsSplitOnCommasTrimmedAndDeduplicated()
    {
        var meta = new Dictionary<string, string>
        {
            ["modelspec.trigger_phrase"] = " ghibli style,  totoro ,,ghibli style, ",
            ["ss_tag_frequency"] = "{\"a\": {\"ignored\": 100}}",
        };
        Assert.Equal(new[] { "ghibli style", "totoro" }, LoraMetadata.ExtractTriggerWords(meta));
    }

    [Fact]
    public void TagFrequencyGivesTheFiveMostFrequentTagsSummedOverDatasets()
    {
        var meta = new Dictionary<string, string>
        {
            ["ss_tag_frequency"] = "{\"10_cat\": {\"cat\": 40, \"sitting\": 5, \"blue eyes\": 12, \"zz\": 3},"
                                 + " \"5_dog\": {\"dog\": 30, \"sitting\": 9, \" outdoors \": 12, \"aa\": 3, \"zero\": 0}}",
        };
        // sitting 14, blue eyes / outdoors 12 (ordinal tie-break), aa / zz 3 -> aa.
        Assert.Equal(new[] { "cat", "dog", "sitting", "blue eyes", "outdoors" }, LoraMetadata.ExtractTriggerWords(meta));
    }

    [Fact]
    public void MalformedTagFrequencyIsAWarning()
    {
        var warnings = new List<string>();
        var words = LoraMetadata.ExtractTriggerWords(new Dictionary<string, string> { ["ss_tag_frequency"] = "{oops" }, warnings);
        Assert.Empty(words);
        Assert.Single(warnings);
    }

    [Theory]
    [InlineData("stable-diffusion-xl-v1-base/lora", "sdxl")]
    [InlineData("stable-diffusion-xl-v1-base", "sdxl")]
    [InlineData("stable-diffusion-v1/lora", "sd15")]
    [InlineData("stable-diffusion-v2-768-v/lora", "sd2")]
    [InlineData("sdxl_base_v1-0", "sdxl")]
    [InlineData("sd_v1", "sd15")]
    [InlineData("sd_v2_768_v", "sd2")]
    [InlineData("flux-1-dev/lora", "flux")]
    [InlineData("sd3-medium/lora", "sd3-medium/lora")]
    public void DeclaredArchitecturesAreNormalized(string raw, string expected) =>
        Assert.Equal(expected, LoraMetadata.NormalizeArchitecture(raw));

    [Fact]
    public void ModelspecArchitectureTakesPriorityOverKohyaVersion()
    {
        var model = new SyntheticFile()
            .Linear("lora_unet_down_blocks_1_attentions_0_proj_in.lora_down.weight", "lora_unet_down_blocks_1_attentions_0_proj_in.lora_up.weight", 4, 640, 640)
            .Meta("modelspec.architecture", "stable-diffusion-xl-v1-base/lora")
            .Meta("ss_base_model_version", "sd_v1")
            .Meta("modelspec.trigger_phrase", "pixel art")
            .Read();
        Assert.Equal("sdxl", model.DeclaredArchitecture);
        Assert.Equal("stable-diffusion-xl-v1-base/lora", model.DeclaredArchitectureRaw);
        Assert.Equal(new[] { "pixel art" }, model.TriggerWords);
        var kohya = new SyntheticFile()
            .Linear("lora_unet_down_blocks_1_attentions_0_proj_in.lora_down.weight", "lora_unet_down_blocks_1_attentions_0_proj_in.lora_up.weight", 4, 640, 640)
            .Meta("ss_base_model_version", "sd_v1")
            .Read();
        Assert.Equal(("sd15", "sd_v1"), (kohya.DeclaredArchitecture, kohya.DeclaredArchitectureRaw));
    }
}
