using System;
using System.Collections.Generic;

namespace LoraSdk.Layers;

/// <summary>
/// Component-wide state that every LoRA layer of one component reads in its forward pass: the active adapter list
/// (shared, so activating adapters is O(1) and not a walk over the layers), the runtime scale, the forward mode and,
/// while the component is pinned for CUDA graphs, its graph-stable state.
/// </summary>
internal sealed class ComponentForwardState
{
    private IReadOnlyList<string> _active = Array.Empty<string>();

    /// <summary>The component's active adapters (PEFT's <c>active_adapters</c> of each layer, shared).</summary>
    public IReadOnlyList<string> Active
    {
        get => _active;
        set { _active = value; Version++; }
    }

    /// <summary>
    /// Multiplies the scaling of every active adapter for the duration of one call (diffusers'
    /// <c>cross_attention_kwargs["scale"]</c> / <c>lora_scale</c>); 1.0 outside such calls.
    /// </summary>
    public double RuntimeScale
    {
        get => _runtimeScale;
        set
        {
            _runtimeScale = value;
            Graph?.Refresh();
        }
    }

    private double _runtimeScale = 1.0;

    /// <summary>The graph-stable state while the component is pinned for CUDA graphs, else null.</summary>
    public GraphForwardState? Graph { get; set; }

    /// <summary>The forward mode of all layers.</summary>
    public LoraForwardMode Mode { get; set; } = LoraForwardMode.Unfused;

    /// <summary>Consecutive forward calls with an unchanged configuration before <see cref="LoraForwardMode.Auto"/> folds.</summary>
    public int AutoMaterializeAfter { get; set; } = 2;

    /// <summary>Raised whenever <see cref="Active"/> changes.</summary>
    public long Version { get; private set; }

    private TorchSharp.torch.Tensor? _scratch;

    /// <summary>A float32 view of <paramref name="numel"/> elements of a reused buffer on <paramref name="device"/> (see LayerAdapters.Scratch).</summary>
    public TorchSharp.torch.Tensor Scratch(long numel, TorchSharp.torch.Device device)
    {
        if (_scratch is null || _scratch.numel() < numel || _scratch.device.ToString() != device.ToString())
        {
            _scratch?.Dispose();
            _scratch = TorchSharp.torch.empty(numel, TorchSharp.torch.ScalarType.Float32, device).DetachFromDisposeScope();
        }
        return _scratch.narrow(0, 0, numel);
    }

    /// <summary>Frees the scratch buffer.</summary>
    public void ReleaseScratch()
    {
        _scratch?.Dispose();
        _scratch = null;
    }
}
