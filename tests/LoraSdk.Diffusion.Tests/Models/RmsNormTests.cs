using LoraSdk.Diffusion.Models.Common;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Models;

/// <summary>
/// <see cref="RmsNorm"/> (layer_norm over [x, −x]) against the definition <c>x · rsqrt(mean(x²) + eps) · weight</c>
/// computed here in float64: float32 within 1e-5 relative, bfloat16 within one bf16 rounding (2⁻⁸ relative), on rows
/// with a large common offset too (where a mean that did not cancel would show).
/// </summary>
public sealed class RmsNormTests
{
    [Theory]
    [InlineData(ScalarType.Float32, 0.0, 1e-5)]
    [InlineData(ScalarType.Float32, 1000.0, 1e-5)]
    [InlineData(ScalarType.BFloat16, 0.0, 1.0 / 256)]
    [InlineData(ScalarType.BFloat16, 50.0, 1.0 / 256)]
    public void MatchesTheDefinition(ScalarType dtype, double offset, double tolerance)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        const double eps = 1e-6;
        using var norm = new RmsNorm(64, eps, new ModelPlacement(dtype, CPU));
        var weightParameter = Assert.Single(norm.parameters());
        using (no_grad()) weightParameter.copy_(rand(64) + 0.5);
        Tensor input = (randn(2, 5, 3, 64) * 3 + offset).to_type(dtype);
        Tensor actual = norm.call(input);
        Assert.Equal(dtype, actual.dtype);
        Assert.Equal(input.shape, actual.shape);

        Tensor x = input.to_type(ScalarType.Float64);
        Tensor weight = weightParameter.to_type(ScalarType.Float64);
        Tensor expected = x * rsqrt(x.pow(2).mean(new long[] { -1 }, keepdim: true) + eps) * weight;
        Tensor error = (actual.to_type(ScalarType.Float64) - expected).abs() / expected.abs().max();
        double worst = error.max().item<double>();
        long index = error.flatten().argmax().item<long>();
        Assert.True(worst <= tolerance, $"RmsNorm {dtype}, offset {offset}: worst relative error {worst:E2} at flat index {index} (> {tolerance:E2})");
    }
}
