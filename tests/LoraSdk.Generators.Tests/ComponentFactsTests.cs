using System;
using System.Linq;
using LoraSdk.Generators.Binding;
using LoraSdk.Generators.Model;

namespace LoraSdk.Generators.Tests;

/// <summary>Derived component facts from the slim sidecar encoding (baseline rank/alpha + exceptions) and layer kinds.</summary>
public class ComponentFactsTests
{
    /// <summary>The straightforward definition: split on dots, the part after the last "container.index".</summary>
    private static string LeafBySplit(string path)
    {
        string[] containers = { "down_blocks", "up_blocks", "attentions", "resnets", "transformer_blocks", "layers", "upsamplers", "downsamplers" };
        var parts = path.Split('.');
        for (int i = parts.Length - 2; i >= 1; i--)
        {
            if (parts[i].Length > 0 && parts[i].All(char.IsAsciiDigit) && containers.Contains(parts[i - 1]))
                return string.Join(".", parts, i + 1, parts.Length - i - 1);
        }
        return path;
    }

    [Theory]
    [InlineData("down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q", "attn1.to_q")]
    [InlineData("down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.0", "attn1.to_out.0")]
    [InlineData("mid_block.resnets.0.conv1", "conv1")]
    [InlineData("up_blocks.0.upsamplers.0.conv", "conv")]
    [InlineData("encoder.layers.11.self_attn.q_proj", "self_attn.q_proj")]
    [InlineData("time_embedding.linear_1", "time_embedding.linear_1")]
    [InlineData("layers.0", "layers.0")]
    [InlineData("down_blocks.1.", "")]
    [InlineData("down_blocks..x", "down_blocks..x")]
    [InlineData("x.", "x.")]
    [InlineData(".x", ".x")]
    [InlineData("blocks.1.attn", "blocks.1.attn")]
    public void LeafOfMatchesTheSplitDefinition(string path, string leaf)
    {
        Assert.Equal(leaf, LeafBySplit(path));
        Assert.Equal(leaf, ComponentFacts.LeafOf(path));
    }

    [Fact]
    public void LeafOfAgreesWithSplitOnEverySdxlModule()
    {
        foreach (var m in LoraSdk.Core.UnetLayout.SdxlBase.Modules)
            Assert.Equal(LeafBySplit(m.Path), ComponentFacts.LeafOf(m.Path));
    }

    [Fact]
    public void BaselineThatIsNotTheModeStillGivesTheModeAndItsPattern()
    {
        var modules = new[] { "a.q", "a.k", "a.v", "b.q" }.OrderBy(p => p, StringComparer.Ordinal).ToEquatableArray();
        // Baseline rank 4 / alpha 2 for one module; three exceptions with rank 8 / alpha 16 make 8 / 16 the mode.
        var component = new ComponentSpec("unet", 4, 2, modules,
            new[] { new RankEntry("a.k", 8), new RankEntry("a.q", 8), new RankEntry("b.q", 8) }.ToEquatableArray(),
            new[] { new AlphaEntry("a.k", 16), new AlphaEntry("a.q", 16), new AlphaEntry("b.q", 16) }.ToEquatableArray(),
            new[] { "b.q" }.ToEquatableArray());
        var facts = ComponentFacts.Of(component, rsLora: false);
        Assert.Equal((8, 16.0, 2.0), (facts.Rank, facts.Alpha, facts.Scaling));
        Assert.Equal(new[] { new RankEntry("a.v", 4) }, facts.RankPattern);
        Assert.Equal(new[] { new AlphaEntry("a.v", 2) }, facts.AlphaPattern);
        Assert.Equal((4, 1), (facts.ModuleCount, facts.Conv2dModuleCount));
        Assert.Equal("a.k\na.q\na.v\nb.q", facts.PackedModules);
        Assert.Equal(8, component.MaxRank);
        Assert.Equal(16.0 / Math.Sqrt(8), ComponentFacts.Of(component, rsLora: true).Scaling);
    }

    [Fact]
    public void TiesGoToTheLargerValue()
    {
        var modules = new[] { "m.a", "m.b" }.ToEquatableArray();
        var component = new ComponentSpec("unet", 4, 4, modules, new[] { new RankEntry("m.b", 8) }.ToEquatableArray(),
            EquatableArray<AlphaEntry>.Empty, EquatableArray<string>.Empty);
        var facts = ComponentFacts.Of(component, rsLora: false);
        Assert.Equal(8, facts.Rank);
        Assert.Equal(new[] { new RankEntry("m.a", 4) }, facts.RankPattern);
    }
}
