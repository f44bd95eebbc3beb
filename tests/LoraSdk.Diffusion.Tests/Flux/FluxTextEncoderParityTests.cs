using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Layers;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Flux;

/// <summary>
/// The tiny Flux text encoders against diffusers' <c>text_encoder/base/*</c> (CLIPTextModel, quick_gelu, legacy
/// argmax pooling, keys without <c>text_model.</c>) and <c>text_encoder_2/base/last_hidden_state</c> (T5EncoderModel
/// without attention mask) from the recorded token ids. Tolerance 1e-4 relative (float32; CPU kernels differ by
/// vendor).
/// </summary>
public sealed class FluxTextEncoderParityTests
{
    private readonly ITestOutputHelper _output;

    public FluxTextEncoderParityTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void ClipTextModelMatchesDiffusers()
    {
        using var te = ComponentLoader.LoadClipTextModel(Path.Combine(RepoPaths.TinyFlux, "text_encoder"));
        using var ids = GoldenSet.Flux.Tensor("inputs/clip_input_ids");
        using var noGrad = no_grad();
        using var output = te.Forward(ids);
        using var last = GoldenSet.Flux.Tensor("text_encoder/base/last_hidden_state");
        using var pooled = GoldenSet.Flux.Tensor("text_encoder/base/pooler_output");
        _output.WriteLine("last_hidden_state: " + TensorAssert.Close(output.LastHiddenState, last, "last_hidden_state"));
        _output.WriteLine("pooler_output: " + TensorAssert.Close(output.PooledOutput, pooled, "pooler_output"));
        Assert.Equal(GoldenSet.Flux.Node("tiny_flux", "param_counts", "text_encoder").AsInt64(), te.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void T5EncoderModelMatchesDiffusers()
    {
        using var te = ComponentLoader.LoadT5EncoderModel(Path.Combine(RepoPaths.TinyFlux, "text_encoder_2"));
        using var ids = GoldenSet.Flux.Tensor("inputs/t5_input_ids");
        using var noGrad = no_grad();
        using var output = te.Forward(ids);
        using var expected = GoldenSet.Flux.Tensor("text_encoder_2/base/last_hidden_state");
        _output.WriteLine("t5 last_hidden_state: " + TensorAssert.Close(output, expected, "text_encoder_2 last_hidden_state"));
        Assert.Equal(GoldenSet.Flux.Node("tiny_flux", "param_counts", "text_encoder_2").AsInt64(), te.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void T5ModulePathsAreTransformersNames()
    {
        using var te = ComponentLoader.LoadT5EncoderModel(Path.Combine(RepoPaths.TinyFlux, "text_encoder_2"));
        var linear = te.named_modules().Where(m => m.module is LoraLinear).Select(m => m.name).ToList();
        var expected = Enumerable.Range(0, 2).SelectMany(i => new[]
        {
            $"encoder.block.{i}.layer.0.SelfAttention.q", $"encoder.block.{i}.layer.0.SelfAttention.k",
            $"encoder.block.{i}.layer.0.SelfAttention.v", $"encoder.block.{i}.layer.0.SelfAttention.o",
            $"encoder.block.{i}.layer.1.DenseReluDense.wi_0", $"encoder.block.{i}.layer.1.DenseReluDense.wi_1",
            $"encoder.block.{i}.layer.1.DenseReluDense.wo",
        });
        Assert.Equal(expected, linear);
        Assert.Equal(21, te.named_parameters().Count());
    }
}
