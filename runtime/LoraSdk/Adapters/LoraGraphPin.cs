using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Gpu;

namespace LoraSdk.Adapters;

/// <summary>
/// Holds one or more LoRA components in their graph-stable forward state, so that CUDA graphs captured over them replay
/// LoRA changes without recapture (see <see cref="LoraComponent.PinForGraphs"/>): while the pin is active, hotswaps,
/// <c>SetAdapters</c> weights within the pinned set, runtime scales, per-step scale schedules and enable/disable write
/// device tensors in place and take effect on the next replay; a change that would alter the captured graph is refused
/// or releases the pin (<see cref="Policy"/>). Dispose the pin after the graphs captured over it (or <see cref="Bind"/>
/// them: ending the pin resets them, so they cannot replay freed state).
/// </summary>
public sealed class LoraGraphPin : IDisposable
{
    private readonly List<LoraComponent> _components = new List<LoraComponent>();
    private readonly List<CudaGraph> _graphs = new List<CudaGraph>();

    internal LoraGraphPin(LoraGraphPinPolicy policy)
    {
        Policy = policy;
    }

    /// <summary>What a change that would alter the captured graphs does (refused, or releases this pin).</summary>
    public LoraGraphPinPolicy Policy { get; }

    /// <summary>The names of the pinned components.</summary>
    public IReadOnlyList<string> Components => _components.Select(c => c.Name).ToList();

    /// <summary>True until the pin is disposed or released by a change (<see cref="LoraGraphPinPolicy.Release"/>).</summary>
    public bool IsActive { get; private set; } = true;

    /// <summary>Why a change released the pin (component, operation, reason), or null.</summary>
    public string? ReleaseReason { get; private set; }

    /// <summary>
    /// Ties <paramref name="graph"/> to this pin: when the pin ends (disposed or released), the graph is reset, so a
    /// replay fails with <c>NotCaptured</c> instead of reading the freed graph-stable buffers.
    /// </summary>
    /// <exception cref="InvalidOperationException">The pin is no longer active.</exception>
    public void Bind(CudaGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (!IsActive) throw new InvalidOperationException($"The graph pin was released ({ReleaseReason ?? "disposed"}); pin again before binding graphs.");
        if (!_graphs.Contains(graph)) _graphs.Add(graph);
    }

    /// <summary>Ends the pin (no-op when already ended): bound graphs are reset, components unpinned when no other pin holds them.</summary>
    /// <exception cref="LoraException"><see cref="LoraErrorKind.GraphCaptureUnderway"/>: a capture is under way.</exception>
    public void Dispose()
    {
        if (!IsActive) return;
        if (CudaGraph.IsCaptureUnderway)
        {
            throw new LoraException(LoraErrorKind.GraphCaptureUnderway,
                "A graph pin cannot end while a CUDA graph capture is under way: the capture records the pinned buffers it would free.");
        }
        End(null);
    }

    internal IReadOnlyList<LoraComponent> PinnedComponents => _components;

    internal void Add(LoraComponent component) => _components.Add(component);

    /// <summary>Ends the pin because of a change (policy Release).</summary>
    internal void Release(string reason) => End(reason);

    private void End(string? reason)
    {
        if (!IsActive) return;
        IsActive = false;
        ReleaseReason = reason;
        foreach (var graph in _graphs)
            if (graph.IsCaptured) graph.Reset();
        _graphs.Clear();
        foreach (var component in _components) component.DetachPin(this);
    }
}
