using System.Collections.Generic;
using LoraSdk.Adapters;
using LoraSdk.Layers;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>
/// DoRA on Linear and Conv2d layers against the formula computed here, independently of the engine:
/// the adapted layer is the base layer with weight <c>m / ‖W + s·B·A‖ ⊙ (W + s·B·A)</c> (row norms; per output channel
/// for Conv2d). The file parity (Linear, against PEFT) is in the diffusion tests' DoraParityTests.
/// </summary>
public sealed class DoraVariantTests
{
    private static LoraAdapterDefinition DoraAdapter(TinyModel m, int rank, double alpha, long seed)
    {
        using var g = new Generator((ulong)seed);
        var modules = new List<LoraModuleTensors>();
        foreach (var (path, a, b) in TinyModel.Shapes(rank))
        {
            long outFeatures = b[0];
            var magnitude = rand(new[] { outFeatures }, generator: g).add_(0.5);
            modules.Add(new LoraModuleTensors(path, randn(a, generator: g).mul_(0.3), randn(b, generator: g).mul_(0.3), alpha, magnitude: magnitude));
        }
        return new LoraAdapterDefinition(modules);
    }

    /// <summary>m / ‖W + s·B·A‖ ⊙ (W + s·B·A), with the norm over everything but the output dimension.</summary>
    private static Tensor DoraWeight(LoraLayer layer, DoraWeights w, double scale)
    {
        var flat = layer.Weight.detach().reshape(layer.OutFeatures, -1);
        var combined = flat + scale * w.B.reshape(layer.OutFeatures, -1).mm(w.A.reshape(w.A.shape[0], -1));
        var norm = combined.pow(2).sum(1).sqrt();
        return (w.Magnitude.reshape(-1) / norm).unsqueeze(1).mul(combined).reshape(layer.Weight.shape);
    }

    [Fact]
    public void ForwardFuseAndUnfuseEqualTheFormulaOnLinearAndConv2d()
    {
        using var m = new TinyModel();
        var c = new LoraComponent("unet", m);
        c.AddAdapter("d", DoraAdapter(m, rank: 3, alpha: 6, seed: 11));
        c.SetAdapters("d", 0.5);
        using var x = randn(2, 8);
        using var image = randn(2, 4, 5, 5);
        var inW = (DoraWeights)m.ProjInLayer.GetAdapter("d");
        var convW = (DoraWeights)m.Conv1Layer.GetAdapter("d");
        Assert.Equal(0.5 * 6 / 3, inW.Scaling);
        using var expectedLinear = nn.functional.linear(x, DoraWeight(m.ProjInLayer, inW, inW.Scaling), m.ProjInLayer.Bias);
        using var expectedConv = nn.functional.conv2d(image, DoraWeight(m.Conv1Layer, convW, convW.Scaling), m.Conv1Layer.Bias, new long[] { 1, 1 }, new long[] { 1, 1 });
        using var actualLinear = m.ProjInLayer.forward(x);
        using var actualConv = m.Conv1Layer.forward(image);
        Assert.True(actualLinear.allclose(expectedLinear, rtol: 1e-5, atol: 1e-6));
        Assert.True(actualConv.allclose(expectedConv, rtol: 1e-5, atol: 1e-6));

        using var original = m.Conv1Layer.Weight.detach().clone();
        using var fusedExpected = DoraWeight(m.Conv1Layer, convW, convW.Scaling);
        c.FuseLora();
        Assert.True(m.Conv1Layer.Weight.allclose(fusedExpected, rtol: 1e-5, atol: 1e-6));
        using (var afterFuse = m.Conv1Layer.forward(image)) Assert.True(afterFuse.allclose(expectedConv, rtol: 1e-5, atol: 1e-5));
        c.UnfuseLora();
        Assert.True(LoraSdk.Engine.Tests.Merging.TensorAssert.Identical(m.Conv1Layer.Weight, original));
    }

    [Fact]
    public void LoraBeforeDoraInTheActiveListIsScaledByDorasMagnitudeLikePeft()
    {
        // PEFT passes the running output (base + the adapters before) to DoRA as its base result.
        using var m = new TinyModel();
        var c = new LoraComponent("unet", m);
        c.AddAdapter("l", LoraTestData.Adapter(rank: 2, alpha: 2, seed: 3));
        c.AddAdapter("d", DoraAdapter(m, rank: 2, alpha: 2, seed: 4));
        c.SetAdapters(new[] { "l", "d" });
        using var x = randn(3, 8);
        var lora = (LowRankWeights)m.ProjInLayer.GetAdapter("l");
        var dora = (DoraWeights)m.ProjInLayer.GetAdapter("d");
        var layer = m.ProjInLayer;
        using var scope = NewDisposeScope();
        var afterLora = nn.functional.linear(x, layer.Weight, layer.Bias) + nn.functional.linear(nn.functional.linear(x, lora.A), lora.B) * lora.Scaling;
        var w = layer.Weight.detach();
        var norm = (w + dora.Scaling * dora.B.mm(dora.A)).pow(2).sum(1).sqrt();
        var magnitudeScale = (dora.Magnitude / norm).view(1, -1);
        var expected = afterLora + (magnitudeScale - 1) * (afterLora - layer.Bias!) + magnitudeScale * nn.functional.linear(nn.functional.linear(x, dora.A), dora.B) * dora.Scaling;
        var actual = layer.forward(x);
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }
}
