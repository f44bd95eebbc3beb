using System.Collections.Generic;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>Module traversal in PyTorch's order.</summary>
public static class ModuleOrder
{
    /// <summary>
    /// Descendants of <paramref name="root"/> depth-first pre-order over registration order, with dotted paths
    /// relative to <paramref name="root"/> (PyTorch's <c>named_modules()</c> without the root itself).
    /// </summary>
    public static IEnumerable<(string name, nn.Module module)> PreOrder(nn.Module root)
    {
        foreach (var (name, child) in root.named_children())
        {
            yield return (name, child);
            foreach (var (path, descendant) in PreOrder(child))
                yield return ($"{name}.{path}", descendant);
        }
    }
}
