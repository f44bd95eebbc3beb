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
        foreach (var s in _slots)
            if (s.Core is { IsInjected: true } core) core.Disabled = true;
    }

    /// <summary>diffusers' <c>enable_lora</c>.</summary>
    public void EnableLora()
    {
        foreach (var s in _slots)
            if (s.Core is { IsInjected: true } core) core.Disabled = false;
    }

    /// <summary>
    /// diffusers' <c>delete_adapters</c>: removes the adapters from every layer holding them (unknown names are
    /// ignored, as diffusers does) and updates the active lists like PEFT's <c>delete_adapter</c>.
    /// </summary>
    public void DeleteAdapters(IEnumerable<string> adapterNames)
    {
        foreach (var name in adapterNames.ToList()) DeleteAdapter(name);
    }

    private void DeleteAdapter(string name)
    {
        if (_adapterByName.TryGetValue(name, out var record))
        {
            foreach (var slot in record.Slots) slot.Core!.RemoveAdapter(name);
            _adapters.Remove(record);
            _adapterByName.Remove(name);
        }

        // PEFT: every tuner layer drops the name from its active list; a layer left with none activates the first of
        // its remaining adapters (sorted). Layers sharing the component list stay shared while the result is the same.
        foreach (var slot in _overridden.ToList())
        {
            var core = slot.Core!;
            var updated = RemoveFromActive(core.ActiveOverride!, name, core);
            core.SetActiveOverride(updated);
        }
        var active = _host.Active;
        if (!active.Contains(name)) return;
        var remaining = active.ToList();
        remaining.Remove(name);
        if (remaining.Count > 0)
        {
            _host.Active = remaining.ToArray();
            return;
        }
        _host.Active = Array.Empty<string>();
        foreach (var slot in _slots)
        {
            var core = slot.Core;
            if (core is null || !core.IsInjected || _overridden.Contains(slot) || core.AdapterNames.Count == 0) continue;
            var sorted = core.AdapterNames.OrderBy(n => n, StringComparer.Ordinal).ToList();
            core.SetActiveOverride(new[] { sorted[0] });
            _overridden.Add(slot);
        }
    }

    private static IReadOnlyList<string> RemoveFromActive(IReadOnlyList<string> active, string name, LoraLayerCore core)
    {
        if (!active.Contains(name)) return active;
        var list = active.ToList();
        list.Remove(name);
        if (list.Count > 0) return list;
        var sorted = core.AdapterNames.OrderBy(n => n, StringComparer.Ordinal).ToList();
        return sorted.Count == 0 ? Array.Empty<string>() : new[] { sorted[0] };
    }

    /// <summary>
    /// diffusers' <c>unload_lora</c>: removes every adapter and returns the layers to plain layers (wrapped
    /// <c>nn.Linear</c>/<c>nn.Conv2d</c> go back into their parents). Fused adapters stay in the weights, as in diffusers
    /// (fuse, unload, then save the model is the documented way to bake a LoRA in); a materialized fold is undone.
    /// </summary>
    public void UnloadLora()
    {
        foreach (var slot in _slots)
        {
            var core = slot.Core;
            if (core is null) continue;
            core.Unload();
            if (slot.IsWrapped)
            {
                core.Release();
                slot.Unwrap();
            }
        }
        _adapters.Clear();
        _adapterByName.Clear();
        _overridden.Clear();
        _host.Active = Array.Empty<string>();
        _host.ReleaseScratch();
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
        var fused = new List<string>();
        foreach (var slot in _slots)
        {
            var core = slot.Core;
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
        if (_host.Mode == LoraForwardMode.Unfused) _host.ReleaseScratch();
        return fused;
    }

    /// <summary>diffusers' <c>unfuse_lora</c>: every fused layer gets its original weight back, bit for bit.</summary>
    public void UnfuseLora()
    {
        foreach (var slot in _slots) slot.Core?.Unmerge();
    }

    /// <summary>diffusers' <c>set_lora_device</c>: moves the named adapters' weights (unknown names are ignored).</summary>
    public void SetLoraDevice(IEnumerable<string> adapterNames, Device device)
    {
        foreach (var name in adapterNames)
        {
            if (!_adapterByName.TryGetValue(name, out var record)) continue;
            foreach (var slot in record.Slots) slot.Core!.MoveAdapter(name, device);
        }
    }
}
