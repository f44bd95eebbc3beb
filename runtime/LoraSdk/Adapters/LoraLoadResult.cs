using System.Collections.Generic;

namespace LoraSdk.Adapters;

/// <summary>What a load did and what it left out (never silently).</summary>
public sealed class LoraLoadResult
{
    internal LoraLoadResult(string sourceName, IReadOnlyDictionary<string, string> adapterNames,
        IReadOnlyDictionary<string, int> moduleCounts, IReadOnlyList<string> unmappedKeys, IReadOnlyList<string> skippedUnsupportedKeys,
        IReadOnlyList<string> skippedComponents, IReadOnlyList<string> warnings, bool hotswapped)
    {
        SourceName = sourceName;
        AdapterNames = adapterNames;
        ModuleCounts = moduleCounts;
        UnmappedKeys = unmappedKeys;
        SkippedUnsupportedKeys = skippedUnsupportedKeys;
        SkippedComponents = skippedComponents;
        Warnings = warnings;
        Hotswapped = hotswapped;
    }

    /// <summary>The file (or source) loaded.</summary>
    public string SourceName { get; }

    /// <summary>Component → adapter name used there (diffusers picks default names per component).</summary>
    public IReadOnlyDictionary<string, string> AdapterNames { get; }

    /// <summary>Component → number of modules loaded (or swapped).</summary>
    public IReadOnlyDictionary<string, int> ModuleCounts { get; }

    /// <summary>File keys that map to no component module.</summary>
    public IReadOnlyList<string> UnmappedKeys { get; }

    /// <summary>File keys of unsupported variants that were skipped (only with <see cref="LoraLoadOptions.SkipUnsupportedVariants"/>).</summary>
    public IReadOnlyList<string> SkippedUnsupportedKeys { get; }

    /// <summary>Components the file has keys for but that the container does not have (or that the prefix excluded).</summary>
    public IReadOnlyList<string> SkippedComponents { get; }

    /// <summary>Warnings (diffusers logs these).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>True when the load swapped weights into an existing adapter.</summary>
    public bool Hotswapped { get; }
}
