using System.Collections.Generic;
using LoraSdk.Core;

namespace LoraSdk.Adapters;

/// <summary>
/// A loaded adapter of one component (diffusers' <c>peft_config[name]</c> plus the engine's index of the layers that
/// hold it, so scale changes touch only those layers).
/// </summary>
internal sealed class LoraAdapterRecord
{
    public LoraAdapterRecord(string name, LoraAdapterConfig config, List<LayerSite> sites, Dictionary<LayerSite, string> sourcePaths)
    {
        Name = name;
        Config = config;
        Sites = sites;
        SourcePaths = sourcePaths;
    }

    public string Name { get; }

    public LoraAdapterConfig Config { get; set; }

    /// <summary>The layers holding the adapter, in module order.</summary>
    public List<LayerSite> Sites { get; }

    /// <summary>The module path each layer had in the source (diffusers naming), used when saving.</summary>
    public Dictionary<LayerSite, string> SourcePaths { get; }

    /// <summary>
    /// Layers that keep the adapter's storage but hold none of its weights: a hotswap zero-fills the layers the new
    /// weights do not cover (as PEFT does). They compute nothing and are not saved.
    /// </summary>
    public HashSet<LayerSite> Vacant { get; } = new HashSet<LayerSite>();
}
