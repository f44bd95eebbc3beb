using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Core;

namespace LoraSdk.Adapters;

/// <summary>
/// An adapter built in memory (a merge result, a user-made adapter) to register with
/// <see cref="LoraComponent.AddAdapter"/>: its PEFT config and its per-module tensors.
/// </summary>
public sealed class LoraAdapterDefinition
{
    /// <summary>Creates the definition.</summary>
    /// <param name="modules">The modules (unique paths).</param>
    /// <param name="config">The PEFT config saved with the adapter; null derives one from the modules.</param>
    /// <param name="useRsLora">Scale by alpha/√r instead of alpha/r (ignored when <paramref name="config"/> is given).</param>
    public LoraAdapterDefinition(IEnumerable<LoraModuleTensors> modules, LoraAdapterConfig? config = null, bool useRsLora = false)
    {
        Modules = (modules ?? throw new ArgumentNullException(nameof(modules))).ToList();
        if (Modules.Count == 0) throw new ArgumentException("an adapter needs at least one module", nameof(modules));
        var duplicate = Modules.GroupBy(m => m.ModulePath, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null) throw new ArgumentException($"module '{duplicate.Key}' is listed twice", nameof(modules));
        Config = config;
        UseRsLora = config?.UseRsLora ?? useRsLora;
    }

    /// <summary>The modules.</summary>
    public IReadOnlyList<LoraModuleTensors> Modules { get; }

    /// <summary>The config, or null to derive one.</summary>
    public LoraAdapterConfig? Config { get; }

    /// <summary>rsLoRA scaling.</summary>
    public bool UseRsLora { get; }
}
