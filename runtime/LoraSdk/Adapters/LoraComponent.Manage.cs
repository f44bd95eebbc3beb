using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Layers;
using static TorchSharp.torch;

namespace LoraSdk.Adapters;

public sealed partial class LoraComponent
{
    /// <summary>diffusers' <c>disable_lora</c>: every injected layer runs as its base layer (a fused layer is unfused at its next forward, as in PEFT).</summary>
    public void DisableLora()
    {
        GateGraphChange("DisableLora", PlanChangeForDisable());
        foreach (var s in _sites)
            if (s.Adapters is { IsInjected: true } core) core.Disabled = true;
        RefreshGraph();  // pinned: scale 0 (or the fold undone) on every layer; layers with fused adapters refused above
    }

    /// <summary>diffusers' <c>enable_lora</c>.</summary>
    public void EnableLora()
    {
        GateGraphChange("EnableLora", null);
        foreach (var s in _sites)
            if (s.Adapters is { IsInjected: true } core) core.Disabled = false;
        RefreshGraph();
    }

    /// <summary>
    /// diffusers' <c>delete_adapters</c>: removes the adapters from every layer holding them (unknown names are
    /// ignored, as diffusers does) and updates the active lists like PEFT's <c>delete_adapter</c>.
    /// </summary>
    public void DeleteAdapters(IEnumerable<string> adapterNames)
    {
        var names = adapterNames.ToList();
        GateGraphChange("DeleteAdapters", PlanChangeForRemoval(names, "deletes"));
        foreach (var name in names) DeleteAdapter(name);
    }

    private void DeleteAdapter(string name)
    {
        if (_registry.TryGet(name, out var record))
        {
            foreach (var site in record.Sites) site.Adapters!.RemoveAdapter(name);
            _registry.Remove(name);
        }
        _active.Remove(name, _sites);
    }

    /// <summary>
    /// diffusers' <c>unload_lora</c>: removes every adapter and returns the layers to plain layers (wrapped
    /// <c>nn.Linear</c>/<c>nn.Conv2d</c> go back into their parents). Fused adapters stay in the weights, as in diffusers
    /// (fuse, unload, then save the model is the documented way to bake a LoRA in); a materialized fold is undone.
    /// </summary>
    public void UnloadLora()
    {
        GateGraphChange("UnloadLora", PlanChangeForUnload());
        foreach (var slot in _sites)
        {
            var adapters = slot.Adapters;
            if (adapters is null) continue;
            adapters.Unload();
            if (slot.IsWrapped)
            {
                adapters.Release();
                slot.Unwrap();
            }
        }
        _registry.Clear();
        _active.Clear();
        _forward.ReleaseScratch();
    }

    /// <summary>
    /// diffusers' model-level <c>fuse_lora(lora_scale, safe_fusing, adapter_names)</c>: multiplies the scaling of each
    /// layer's active adapters by <paramref name="loraScale"/> (kept afterwards, as PEFT does), then fuses
    /// <paramref name="adapterNames"/> (default: the active ones) into the weights with fp32 math. The original weight of
    /// each fused layer is kept, so <see cref="UnfuseLora"/> restores it bit-exactly. With
    /// <paramref name="safeFusing"/>, a NaN/Inf result throws and every layer and scaling is rolled back.
    /// </summary>
    /// <returns>The adapters fused by this call.</returns>
    public IReadOnlyList<string> FuseLora(double loraScale = 1.0, bool safeFusing = false, IReadOnlyList<string>? adapterNames = null)
    {
        using var transaction = new LoraFuseTransaction();
        try
        {
            return FuseInto(transaction, loraScale, safeFusing, adapterNames);
        }
        catch
        {
            transaction.Rollback();
            throw;
        }
    }

    /// <summary>Fuses into <paramref name="transaction"/>; the caller rolls back on failure.</summary>
    internal IReadOnlyList<string> FuseInto(LoraFuseTransaction transaction, double loraScale, bool safeFusing, IReadOnlyList<string>? adapterNames)
    {
        GateGraphChange("FuseLora", PlanChangeForFuse());
        var fused = new List<string>();
        foreach (var slot in _sites)
        {
            var core = slot.Adapters;
            if (core is null || !core.IsInjected) continue;
            if (loraScale != 1.0)
            {
                foreach (var active in core.ActiveAdapters)
                {
                    if (!core.TryGetAdapter(active, out var w)) continue;
                    transaction.RecordScaling(w);
                    w.SetScaling(w.Scaling * loraScale);
                }
            }
            foreach (var name in core.Merge(adapterNames, safeFusing, transaction))
                if (!fused.Contains(name)) fused.Add(name);
        }
        if (_forward.Mode == LoraForwardMode.Unfused) _forward.ReleaseScratch();
        return fused;
    }

    /// <summary>diffusers' <c>unfuse_lora</c>: every fused layer gets its original weight back, bit for bit.</summary>
    public void UnfuseLora()
    {
        GateGraphChange("UnfuseLora", PlanChangeForUnfuse());
        foreach (var slot in _sites) slot.Adapters?.Unmerge();
    }

    /// <summary>diffusers' <c>set_lora_device</c>: moves the named adapters' weights (unknown names are ignored).</summary>
    public void SetLoraDevice(IEnumerable<string> adapterNames, Device device)
    {
        var names = adapterNames.ToList();
        GateGraphChange("SetLoraDevice", PlanChangeForRemoval(names, "moves"));
        foreach (var name in names)
        {
            if (!_registry.TryGet(name, out var record)) continue;
            foreach (var slot in record.Sites) slot.Adapters!.MoveAdapter(name, device);
        }
    }
}
