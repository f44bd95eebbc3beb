using System;
using System.Runtime.InteropServices;

namespace LoraSdk.Gpu;

/// <summary>Owns one native graph; frees it on dispose or, if the owner was not disposed, on finalization.</summary>
internal sealed class CudaGraphHandle : SafeHandle
{
    private readonly ICudaGraphBackend _backend;

    internal CudaGraphHandle(ICudaGraphBackend backend, IntPtr graph) : base(IntPtr.Zero, ownsHandle: true)
    {
        _backend = backend;
        SetHandle(graph);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        try
        {
            _backend.Destroy(handle);
            return true;
        }
        catch (CudaGraphException)
        {
            return false;
        }
    }
}
