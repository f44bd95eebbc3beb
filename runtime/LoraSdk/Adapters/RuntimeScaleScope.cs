using System;
using LoraSdk.Layers;

namespace LoraSdk.Adapters;

/// <summary>Restores a component's runtime scale when disposed (see <see cref="LoraComponent.ApplyRuntimeScale"/>).</summary>
internal sealed class RuntimeScaleScope : IDisposable
{
    private readonly ComponentForwardState? _host;
    private readonly double _previous;
    private bool _disposed;

    public RuntimeScaleScope(ComponentForwardState? host, double previous)
    {
        _host = host;
        _previous = previous;
    }

    /// <summary>A scope that changes nothing (scale 1.0).</summary>
    public static IDisposable Empty { get; } = new RuntimeScaleScope(null, 1.0);

    public void Dispose()
    {
        if (_disposed || _host is null) return;
        _disposed = true;
        _host.RuntimeScale = _previous;
    }
}
