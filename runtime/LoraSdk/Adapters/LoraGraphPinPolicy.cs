namespace LoraSdk.Adapters;

/// <summary>What a <see cref="LoraGraphPin"/> does when a LoRA change would alter what its graphs compute.</summary>
public enum LoraGraphPinPolicy
{
    /// <summary>
    /// Refuse the change with a <see cref="LoraException"/> of kind <see cref="LoraErrorKind.GraphPinned"/> naming the
    /// reason; nothing changes. For code that owns its graphs and wants to be told.
    /// </summary>
    Refuse,

    /// <summary>
    /// Let the change happen after releasing the pin: its bound graphs are reset (a replay then fails with
    /// <c>CudaGraphErrorKind.NotCaptured</c> instead of computing the old plan), <see cref="LoraGraphPin.IsActive"/> turns
    /// false and <see cref="LoraGraphPin.ReleaseReason"/> says why; the owner pins again and recaptures (a reported
    /// recapture). What a graph cache such as the pipeline's uses.
    /// </summary>
    Release,
}
