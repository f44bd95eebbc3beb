using System;
using System.Collections.Generic;
using LoraSdk.Gpu;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// diffusers' <c>Timesteps</c> / <c>get_timestep_embedding</c>: sinusoidal features of (fractional) timesteps,
/// computed in float32 with the same operation order as diffusers (max period 10000).
/// </summary>
/// <remarks>
/// The frequency vector <c>exp(-ln(10000) · arange(half) / (half − shift))</c> does not depend on the timesteps: it is
/// computed once per device, on that device with diffusers' operations (so the values are those diffusers computes
/// every call), and cached. Embedding then launches no arange/exp and creates no tensor on another device, which keeps
/// a UNet forward capturable in a CUDA graph. While a graph capture is under way a missing CUDA entry is computed for the
/// call but not cached (a captured kernel only runs on replay, so its output must not outlive the capture as a cache).
/// </remarks>
public sealed class SinusoidalTimesteps : IDisposable
{
    private readonly int _numChannels;
    private readonly bool _flipSinToCos;
    private readonly double _downscaleFreqShift;
    private readonly double _scale;
    private readonly object _gate = new();
    private readonly Dictionary<string, Tensor> _frequencies = new(StringComparer.Ordinal);
    private bool _disposed;

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

    /// <summary>Embeds a 1-D tensor of N timesteps into (N, numChannels) float32 on the timesteps' device.</summary>
    public Tensor Embed(Tensor timesteps)
    {
        if (timesteps.Dimensions != 1)
            throw new ArgumentException("Timesteps should be a 1d-array", nameof(timesteps));
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = NewDisposeScope();
        int half = _numChannels / 2;
        Tensor frequencies = Frequencies(timesteps.device, half);
        Tensor emb = timesteps.unsqueeze(1).to_type(ScalarType.Float32) * frequencies.unsqueeze(0);
        emb = emb * _scale;
        emb = cat(new[] { sin(emb), cos(emb) }, -1);
        if (_flipSinToCos)
            emb = cat(new[] { emb.narrow(1, half, half), emb.narrow(1, 0, half) }, -1);
        if (_numChannels % 2 == 1)
            emb = nn.functional.pad(emb, new long[] { 0, 1, 0, 0 });
        return emb.MoveToOuterDisposeScope();
    }

    /// <summary>Frees the cached frequency vectors.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var t in _frequencies.Values) t.Dispose();
            _frequencies.Clear();
        }
    }

    // (half) float32 frequencies on `device`; a cached tensor, or one owned by the caller's dispose scope.
    private Tensor Frequencies(Device device, int half)
    {
        string key = device.ToString();
        lock (_gate)
        {
            if (_frequencies.TryGetValue(key, out var cached)) return cached;
        }
        Tensor exponent = arange(0, half, ScalarType.Float32, device) * (-Math.Log(10000.0));
        exponent = exponent / (half - _downscaleFreqShift);
        Tensor frequencies = exp(exponent);
        if (device.type == DeviceType.CUDA && CudaGraph.IsCaptureUnderway) return frequencies;
        lock (_gate)
        {
            if (_disposed || _frequencies.ContainsKey(key)) return frequencies;
            _frequencies[key] = frequencies.DetachFromDisposeScope();
            return frequencies;
        }
    }
}
