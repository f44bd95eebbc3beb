using System;
using System.Collections.Generic;

namespace LoraSdk.Adapters;

/// <summary>
/// One adapter's weight for a component after diffusers' expansion: either one number for every module, or the
/// ordered (layer name, weight) list that diffusers' <c>get_module_weight</c> matches module paths against.
/// </summary>
internal sealed class LoraModuleWeightRule
{
    private readonly double _number;
    private readonly IReadOnlyList<KeyValuePair<string, double>>? _layers;

    private LoraModuleWeightRule(double number, IReadOnlyList<KeyValuePair<string, double>>? layers)
    {
        _number = number;
        _layers = layers;
    }

    public static LoraModuleWeightRule Uniform(double weight) => new LoraModuleWeightRule(weight, null);

    public static LoraModuleWeightRule PerLayer(IReadOnlyList<KeyValuePair<string, double>> layers) => new LoraModuleWeightRule(0, layers);

    public bool IsUniform => _layers is null;

    public double UniformWeight => _number;

    /// <summary>
    /// diffusers' <c>get_module_weight</c>: the first layer name contained in <paramref name="modulePath"/>; else the
    /// weight of <c>&lt;parts[0]&gt;.&lt;parts[1]&gt;.attentions.&lt;parts[3]&gt;</c> (so a resnet of a block takes the scale of
    /// the attention with its index); else 1.0. Paths with fewer than four parts get 1.0 (diffusers raises an
    /// IndexError there).
    /// </summary>
    public double WeightFor(string modulePath)
    {
        if (_layers is null) return _number;
        foreach (var kv in _layers)
            if (modulePath.Contains(kv.Key, StringComparison.Ordinal)) return kv.Value;
        var parts = modulePath.Split('.');
        if (parts.Length < 4) return 1.0;
        string key = parts[0] + "." + parts[1] + ".attentions." + parts[3];
        foreach (var kv in _layers)
            if (kv.Key == key) return kv.Value;
        return 1.0;
    }
}
