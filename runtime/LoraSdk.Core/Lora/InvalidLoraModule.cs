using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>A module whose keys map but whose tensors are inconsistent (missing up/down, rank mismatch, bad alpha).</summary>
public sealed class InvalidLoraModule
{
    /// <summary>Creates a report.</summary>
    public InvalidLoraModule(string component, string modulePath, IReadOnlyList<string> keys, string reason)
    {
        Component = component;
        ModulePath = modulePath;
        Keys = keys;
        Reason = reason;
    }

    /// <summary>One of <see cref="LoraComponents"/>.</summary>
    public string Component { get; }

    /// <summary>The module path the keys map to.</summary>
    public string ModulePath { get; }

    /// <summary>The module's file keys, ordinal-sorted.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>What is wrong.</summary>
    public string Reason { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Component}:{ModulePath}: {Reason}";
}
