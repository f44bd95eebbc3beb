using System.IO;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Parity;

/// <summary>The tiny SDXL text encoders against transformers' outputs (<c>text_encoder/base/*</c>, <c>text_encoder_2/base/*</c>).</summary>
public sealed class TextEncoderParityTests
{
    private readonly ITestOutputHelper _output;

    public TextEncoderParityTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void TextEncoderBaseOutputsMatchTransformers()
    {
        var g = GoldenSet.Reference;
        using var model = ComponentLoader.LoadClipTextModel(Path.Combine(RepoPaths.TinySdxl, "text_encoder"));
        using var noGrad = no_grad();
        using var ids = g.Tensor("inputs/input_ids");
        using var output = model.Forward(ids);
        Check(output.LastHiddenState, g, "text_encoder/base/last_hidden_state");
        Check(output.HiddenStates[^2], g, "text_encoder/base/hidden_states_-2");
        Check(output.PooledOutput, g, "text_encoder/base/pooler_output");
        Assert.Equal(model.Config.NumHiddenLayers + 1, output.HiddenStates.Count);
    }

    [Fact]
    public void TextEncoder2BaseOutputsMatchTransformers()
    {
        var g = GoldenSet.Reference;
        using var model = ComponentLoader.LoadClipTextModelWithProjection(Path.Combine(RepoPaths.TinySdxl, "text_encoder_2"));
        using var noGrad = no_grad();
        using var ids = g.Tensor("inputs/input_ids");
        using var output = model.Forward(ids);
        Check(output.LastHiddenState, g, "text_encoder_2/base/last_hidden_state");
        Check(output.HiddenStates[^2], g, "text_encoder_2/base/hidden_states_-2");
        Check(output.TextEmbeds!, g, "text_encoder_2/base/text_embeds");
    }

    private void Check(Tensor actual, GoldenSet g, string key)
    {
        using var expected = g.Tensor(key);
        var c = TensorAssert.Close(actual, expected, key);
        _output.WriteLine($"{key}: {c}");
    }
}
