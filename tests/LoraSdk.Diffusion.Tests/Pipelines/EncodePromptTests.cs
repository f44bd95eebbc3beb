using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Pipelines;

/// <summary>encode_prompt options beyond the goldens: prompt_2 routing, clip_skip, no guidance, images per prompt.</summary>
public sealed class EncodePromptTests : IClassFixture<PromptPipelineFixture>
{
    private readonly StableDiffusionXLPipeline _pipe;

    public EncodePromptTests(PromptPipelineFixture fixture) => _pipe = fixture.Pipeline;

    private Tensor Hidden(bool second, string text, int fromEnd)
    {
        using var ids = (second ? _pipe.Tokenizer2! : _pipe.Tokenizer!).TokenizeToTensor(text);
        using var output = second ? _pipe.TextEncoder2!.Forward(ids) : _pipe.TextEncoder!.Forward(ids);
        return output.HiddenStates[output.HiddenStates.Count - fromEnd].clone();
    }

    [Fact]
    public void Prompt2GoesToTheSecondEncoderAndClipSkipPicksAnEarlierLayer()
    {
        using var noGrad = no_grad();
        using var e = _pipe.EncodePrompt("a cat", prompt2: "a dog", doClassifierFreeGuidance: false, clipSkip: 1);
        Assert.Null(e.NegativePromptEmbeds);
        using var h1 = Hidden(false, "a cat", 3);
        using var h2 = Hidden(true, "a dog", 3);
        using var expected = cat(new[] { h1, h2 }, -1);
        TensorAssert.Equal(e.PromptEmbeds, expected, "clip_skip=1 prompt embeds");
        using var ids = _pipe.Tokenizer2!.TokenizeToTensor("a dog");
        using var output = _pipe.TextEncoder2!.Forward(ids);
        TensorAssert.Equal(e.PooledPromptEmbeds, output.TextEmbeds!, "pooled embeds come from prompt_2");
    }

    [Fact]
    public void ImagesPerPromptRepeatTheEmbeddings()
    {
        using var one = _pipe.EncodePrompt("a cat", negativePrompt: "blurry");
        using var three = _pipe.EncodePrompt("a cat", negativePrompt: "blurry", numImagesPerPrompt: 3);
        Assert.Equal(new long[] { 3, 77, 64 }, three.PromptEmbeds.shape);
        Assert.Equal(new long[] { 3, 32 }, three.NegativePooledPromptEmbeds!.shape);
        for (int i = 0; i < 3; i++)
        {
            TensorAssert.Equal(three.PromptEmbeds[i].unsqueeze(0), one.PromptEmbeds, $"prompt_embeds[{i}]");
            TensorAssert.Equal(three.NegativePromptEmbeds![i].unsqueeze(0), one.NegativePromptEmbeds!, $"negative_prompt_embeds[{i}]");
        }
    }
}
