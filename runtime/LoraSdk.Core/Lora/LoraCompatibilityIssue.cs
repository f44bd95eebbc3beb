namespace LoraSdk.Core;

/// <summary>A module of a LoRA file that does not fit a base model layout (see <see cref="LoraFileModel.CheckCompatibility"/>).</summary>
public sealed class LoraCompatibilityIssue
{
    /// <summary>Creates an issue.</summary>
    public LoraCompatibilityIssue(string component, string modulePath, string reason)
    {
        Component = component;
        ModulePath = modulePath;
        Reason = reason;
    }

    /// <summary>One of <see cref="LoraComponents"/>.</summary>
    public string Component { get; }

    /// <summary>The adapter's module path.</summary>
    public string ModulePath { get; }

    /// <summary>Why it does not fit (missing layer, other kind, other in/out features or kernel).</summary>
    public string Reason { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Component}:{ModulePath}: {Reason}";
}
