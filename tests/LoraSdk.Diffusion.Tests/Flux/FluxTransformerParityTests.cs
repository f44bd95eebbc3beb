using System;
using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Models.Flux;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Layers;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Flux;

/// <summary>xUnit class fixture: tests/fixtures-flux/tiny-flux/transformer loaded once, float32.</summary>
public sealed class FluxTransformerFixture : IDisposable
{
    /// <summary>The loaded transformer.</summary>
    public FluxTransformer2DModel Transformer { get; } = ComponentLoader.LoadFluxTransformer(Path.Combine(RepoPaths.TinyFlux, "transformer"));

    /// <inheritdoc />
    public void Dispose() => Transformer.Dispose();
}

/// <summary>
/// The tiny FluxTransformer2DModel against diffusers' <c>transformer/base*</c> goldens from the recorded
/// <c>inputs/*</c> (float32, one libtorch thread; tolerance 1e-4 relative: the goldens come from an Intel CPU and
/// libtorch's matmul/attention kernels differ by vendor), and its module layout against diffusers' names and order.
/// </summary>
public sealed class FluxTransformerParityTests : IClassFixture<FluxTransformerFixture>
{
    private readonly FluxTransformer2DModel _transformer;
    private readonly ITestOutputHelper _output;

    public FluxTransformerParityTests(FluxTransformerFixture fixture, ITestOutputHelper output)
    {
        _transformer = fixture.Transformer;
        _output = output;
    }

    [Theory]
    [InlineData("base", false)]
    [InlineData("base_rect", true)]
    public void OutputMatchesDiffusers(string golden, bool rect)
    {
        using var scope = NewDisposeScope();
        using var expected = GoldenSet.Flux.Tensor("transformer/" + golden);
        using var actual = Run(rect, null);
        _output.WriteLine($"{golden}: {TensorAssert.Close(actual, expected, golden)}");
    }

    [Fact]
    public void JointAttentionScaleOpensTheLoraScaleHookAndWithoutLoraEqualsBase()
    {
        var hook = new RecordingScaleHook();
        _transformer.LoraScaleHook = hook;
        try
        {
            using var expected = GoldenSet.Flux.Tensor("transformer/base_joint_attention_scale_0.5");
            using var actual = Run(false, 0.5);
            _output.WriteLine($"scale 0.5: {TensorAssert.Close(actual, expected, "base_joint_attention_scale_0.5")}");
            using var baseGolden = GoldenSet.Flux.Tensor("transformer/base");
            TensorAssert.Equal(expected, baseGolden, "diffusers: scale 0.5 without LoRA = base");
            Assert.Equal(new[] { "+FluxTransformer2DModel 0.5", "-FluxTransformer2DModel 0.5" }, hook.Events);
        }
        finally
        {
            _transformer.LoraScaleHook = null;
        }
    }

    [Fact]
    public void LinearModulesHaveDiffusersNamesInNamedModulesOrder()
    {
        var linear = _transformer.named_modules().Where(m => m.module is LoraLinear).Select(m => m.name).ToList();
        var golden = GoldenSet.Flux.Node("tiny_flux", "transformer_linear_modules").Items.Select(i => i.AsString()).ToList();
        Assert.Equal(golden, linear);

        // PEFT's injection order for each fixture LoRA is a subsequence of ours.
        foreach (var lora in new[] { "flux_lora_a", "flux_lora_b", "flux_lora_kohya_extras" })
        {
            var injected = GoldenSet.Flux.Node("injected_modules", lora, "transformer", "modules").Properties.Select(p => p.Key).ToList();
            Assert.Equal(injected, linear.Where(injected.Contains).ToList());
        }
    }

    [Fact]
    public void StateDictKeysAndParameterCountEqualTheCheckpoint()
    {
        long count = _transformer.parameters().Sum(p => p.numel());
        Assert.Equal(GoldenSet.Flux.Node("tiny_flux", "param_counts", "transformer").AsInt64(), count);
        Assert.Equal(112, _transformer.named_parameters().Count());
    }

    private Tensor Run(bool rect, double? scale)
    {
        var g = GoldenSet.Flux;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor hidden = g.Tensor(rect ? "inputs/rect_hidden_states" : "inputs/hidden_states");
        Tensor imgIds = g.Tensor(rect ? "inputs/rect_img_ids" : "inputs/img_ids");
        Tensor output = _transformer.Forward(hidden, g.Tensor("inputs/encoder_hidden_states"), g.Tensor("inputs/pooled_projections"),
            g.Tensor("inputs/timestep"), imgIds, g.Tensor("inputs/txt_ids"), g.Tensor("inputs/guidance"), scale);
        return output.MoveToOuterDisposeScope();
    }
}
