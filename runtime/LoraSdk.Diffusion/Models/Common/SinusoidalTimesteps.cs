using System;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// diffusers' <c>Timesteps</c> / <c>get_timestep_embedding</c>: sinusoidal features of (fractional) timesteps,
/// computed in float32 with the same operation order as diffusers (max period 10000).
/// </summary>
public sealed class SinusoidalTimesteps
{
    private readonly int _numChannels;
    private readonly bool _flipSinToCos;
    private readonly double _downscaleFreqShift;
    private readonly double _scale;

    /// <summary>Creates the embedding.</summary>
    /// <param name="numChannels">Output width.</param>
    /// <param name="flipSinToCos">Order cos, sin instead of sin, cos.</param>
    /// <param name="downscaleFreqShift">Frequency shift (<c>freq_shift</c>).</param>
    /// <param name="scale">Scale applied to the arguments.</param>
    public SinusoidalTimesteps(int numChannels, bool flipSinToCos, double downscaleFreqShift, double scale = 1.0)
    {
        _numChannels = numChannels;
        _flipSinToCos = flipSinToCos;
        _downscaleFreqShift = downscaleFreqShift;
        _scale = scale;
    }

    /// <summary>Embeds a 1-D tensor of N timesteps into (N, numChannels) float32.</summary>
    public Tensor Embed(Tensor timesteps)
    {
        if (timesteps.Dimensions != 1)
            throw new ArgumentException("Timesteps should be a 1d-array", nameof(timesteps));
        using var scope = NewDisposeScope();
        int half = _numChannels / 2;
        Tensor exponent = arange(0, half, ScalarType.Float32, timesteps.device) * (-Math.Log(10000.0));
        exponent = exponent / (half - _downscaleFreqShift);
        Tensor emb = exp(exponent);
        emb = timesteps.unsqueeze(1).to_type(ScalarType.Float32) * emb.unsqueeze(0);
        emb = emb * _scale;
        emb = cat(new[] { sin(emb), cos(emb) }, -1);
        if (_flipSinToCos)
            emb = cat(new[] { emb.narrow(1, half, half), emb.narrow(1, 0, half) }, -1);
        if (_numChannels % 2 == 1)
            emb = nn.functional.pad(emb, new long[] { 0, 1, 0, 0 });
        return emb.MoveToOuterDisposeScope();
    }
}
