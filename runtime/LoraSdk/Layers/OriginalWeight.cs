using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// A layer's weight as it was before anything was folded into it (fuse or the materialized mode), kept so that undoing
/// the fold copies it back bit for bit instead of subtracting a recomputed delta (which drifts). Kept only while a
/// fold exists.
/// </summary>
internal sealed class OriginalWeight
{
    private Tensor? _copy;

    /// <summary>True while a copy is kept.</summary>
    public bool IsKept => _copy is not null;

    /// <summary>Keeps a copy of <paramref name="weight"/> unless one is kept already.</summary>
    public void Keep(Tensor weight)
    {
        if (_copy is not null) return;
        using var noGrad = torch.no_grad();
        using var detached = weight.detach();
        _copy = detached.clone().DetachFromDisposeScope();
    }

    /// <summary>Writes the kept values back into <paramref name="weight"/>.</summary>
    public void RestoreInto(Tensor weight)
    {
        using var noGrad = torch.no_grad();
        weight.copy_(_copy!);
    }

    /// <summary>Frees the copy.</summary>
    public void Release()
    {
        _copy?.Dispose();
        _copy = null;
    }

    /// <summary>Follows the layer to another device or dtype.</summary>
    public void MoveTo(Device? device, ScalarType? dtype)
    {
        if (_copy is null) return;
        Tensor moved = dtype is ScalarType d
            ? (device is not null ? _copy.to(d, device) : _copy.to(d))
            : (device is not null ? _copy.to(device) : _copy);
        if (ReferenceEquals(moved, _copy)) return;
        moved.DetachFromDisposeScope();
        _copy.Dispose();
        _copy = moved;
    }
}
