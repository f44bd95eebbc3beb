using System;
using System.Collections.Generic;

namespace LoraSdk.Diffusion.Tests.Support;

/// <summary>An <see cref="IProgress{T}"/> that records reports synchronously (unlike <see cref="Progress{T}"/>).</summary>
public sealed class SynchronousProgress<T> : IProgress<T>
{
    /// <summary>The reports in order.</summary>
    public List<T> Reports { get; } = new();

    /// <inheritdoc />
    public void Report(T value) => Reports.Add(value);
}
