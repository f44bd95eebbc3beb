using System;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Gpu;

/// <summary>
/// The native graph library's C ABI (native/include/lorasdk_cuda_graph.h), bound by function pointers from a library
/// handle that <see cref="CudaGraphRuntime"/> loaded on request: nothing here runs unless graphs are asked for.
/// </summary>
internal sealed unsafe class NativeCudaGraphBackend : ICudaGraphBackend
{
    /// <summary>The C ABI version this wrapper speaks (<c>LSG_ABI_VERSION</c>).</summary>
    internal const int AbiVersion = 2;

    /// <summary>Every export of the C ABI (native/include/lorasdk_cuda_graph.h), all required.</summary>
    internal static readonly string[] ExportNames =
    {
        "lsg_abi_version",
        "lsg_last_error",
        "lsg_build_torch_version",
        "lsg_runtime_torch_version",
        "lsg_build_cuda_version",
        "lsg_can_count_nodes",
        "lsg_cuda_device_count",
        "lsg_synchronize",
        "lsg_is_current_stream_capturing",
        "lsg_tensor_describe",
        "lsg_memory_stats",
        "lsg_reset_peak_memory",
        "lsg_pool_handle",
        "lsg_graph_create",
        "lsg_graph_warmup_begin",
        "lsg_graph_warmup_end",
        "lsg_graph_capture_begin",
        "lsg_graph_capture_end",
        "lsg_graph_capture_abort",
        "lsg_graph_replay",
        "lsg_graph_reset",
        "lsg_graph_pool",
        "lsg_graph_destroy",
        "lsg_rms_norm",
    };

    private readonly string _libraryPath;
    private readonly delegate* unmanaged[Cdecl]<IntPtr> _lastError;
    private readonly delegate* unmanaged[Cdecl]<IntPtr> _buildTorchVersion;
    private readonly delegate* unmanaged[Cdecl]<byte*, int, int> _runtimeTorchVersion;
    private readonly delegate* unmanaged[Cdecl]<int> _buildCudaVersion;
    private readonly delegate* unmanaged[Cdecl]<int> _canCountNodes;
    private readonly delegate* unmanaged[Cdecl]<int*, int> _deviceCount;
    private readonly delegate* unmanaged[Cdecl]<int, int> _synchronize;
    private readonly delegate* unmanaged[Cdecl]<int, int*, int> _isCapturing;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, TensorInfo*, int> _describe;
    private readonly delegate* unmanaged[Cdecl]<int, long*, long*, long*, long*, int> _memoryStats;
    private readonly delegate* unmanaged[Cdecl]<int, int> _resetPeak;
    private readonly delegate* unmanaged[Cdecl]<ulong*, ulong*, int> _poolHandle;
    private readonly delegate* unmanaged[Cdecl]<int, IntPtr*, int> _create;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int> _warmupBegin;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int> _warmupEnd;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, ulong, ulong, int, int> _captureBegin;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, long*, long*, int> _captureEnd;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int> _captureAbort;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int> _replay;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int> _reset;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, ulong*, ulong*, int> _graphPool;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int> _destroy;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, double, IntPtr*, int> _rmsNorm;

    [StructLayout(LayoutKind.Sequential)]
    internal struct TensorInfo
    {
        public int DeviceType;
        public int DeviceIndex;
        public long Numel;
        public long Dim;
        public ulong DataPtr;
        public int ScalarType;
        public int IsContiguous;
    }

    private NativeCudaGraphBackend(IntPtr library, string libraryPath)
    {
        _libraryPath = libraryPath;
        _lastError = (delegate* unmanaged[Cdecl]<IntPtr>)Export(library, "lsg_last_error");
        _buildTorchVersion = (delegate* unmanaged[Cdecl]<IntPtr>)Export(library, "lsg_build_torch_version");
        _runtimeTorchVersion = (delegate* unmanaged[Cdecl]<byte*, int, int>)Export(library, "lsg_runtime_torch_version");
        _buildCudaVersion = (delegate* unmanaged[Cdecl]<int>)Export(library, "lsg_build_cuda_version");
        _canCountNodes = (delegate* unmanaged[Cdecl]<int>)Export(library, "lsg_can_count_nodes");
        _deviceCount = (delegate* unmanaged[Cdecl]<int*, int>)Export(library, "lsg_cuda_device_count");
        _synchronize = (delegate* unmanaged[Cdecl]<int, int>)Export(library, "lsg_synchronize");
        _isCapturing = (delegate* unmanaged[Cdecl]<int, int*, int>)Export(library, "lsg_is_current_stream_capturing");
        _describe = (delegate* unmanaged[Cdecl]<IntPtr, TensorInfo*, int>)Export(library, "lsg_tensor_describe");
        _memoryStats = (delegate* unmanaged[Cdecl]<int, long*, long*, long*, long*, int>)Export(library, "lsg_memory_stats");
        _resetPeak = (delegate* unmanaged[Cdecl]<int, int>)Export(library, "lsg_reset_peak_memory");
        _poolHandle = (delegate* unmanaged[Cdecl]<ulong*, ulong*, int>)Export(library, "lsg_pool_handle");
        _create = (delegate* unmanaged[Cdecl]<int, IntPtr*, int>)Export(library, "lsg_graph_create");
        _warmupBegin = (delegate* unmanaged[Cdecl]<IntPtr, int>)Export(library, "lsg_graph_warmup_begin");
        _warmupEnd = (delegate* unmanaged[Cdecl]<IntPtr, int>)Export(library, "lsg_graph_warmup_end");
        _captureBegin = (delegate* unmanaged[Cdecl]<IntPtr, ulong, ulong, int, int>)Export(library, "lsg_graph_capture_begin");
        _captureEnd = (delegate* unmanaged[Cdecl]<IntPtr, long*, long*, int>)Export(library, "lsg_graph_capture_end");
        _captureAbort = (delegate* unmanaged[Cdecl]<IntPtr, int>)Export(library, "lsg_graph_capture_abort");
        _replay = (delegate* unmanaged[Cdecl]<IntPtr, int>)Export(library, "lsg_graph_replay");
        _reset = (delegate* unmanaged[Cdecl]<IntPtr, int>)Export(library, "lsg_graph_reset");
        _graphPool = (delegate* unmanaged[Cdecl]<IntPtr, ulong*, ulong*, int>)Export(library, "lsg_graph_pool");
        _destroy = (delegate* unmanaged[Cdecl]<IntPtr, int>)Export(library, "lsg_graph_destroy");
        _rmsNorm = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, double, IntPtr*, int>)Export(library, "lsg_rms_norm");
    }

    /// <summary>Binds every export of the library; a missing export or another ABI version is a <see cref="CudaGraphErrorKind.NativeAbiMismatch"/>.</summary>
    internal static NativeCudaGraphBackend Bind(IntPtr library, string libraryPath)
    {
        foreach (string name in ExportNames) Export(library, name, libraryPath);
        var abi = (delegate* unmanaged[Cdecl]<int>)Export(library, "lsg_abi_version", libraryPath);
        int version = abi();
        if (version != AbiVersion)
        {
            throw new CudaGraphException(CudaGraphErrorKind.NativeAbiMismatch,
                $"{libraryPath} speaks C ABI version {version}; this LoraSdk needs version {AbiVersion}. Rebuild the library from this LoraSdk's native/ folder.");
        }
        return new NativeCudaGraphBackend(library, libraryPath);
    }

    private IntPtr Export(IntPtr library, string name) => Export(library, name, _libraryPath);

    private static IntPtr Export(IntPtr library, string name, string libraryPath)
    {
        if (!NativeLibrary.TryGetExport(library, name, out IntPtr address))
        {
            throw new CudaGraphException(CudaGraphErrorKind.NativeAbiMismatch,
                $"{libraryPath} does not export {name}: it was built from another version of LoraSdk's native/ folder. Rebuild it.");
        }
        return address;
    }

    internal string BuildTorchVersion => Marshal.PtrToStringUTF8(_buildTorchVersion()) ?? "";

    internal int BuildCudaVersion => _buildCudaVersion();

    internal bool CanCountNodes => _canCountNodes() != 0;

    internal string RuntimeTorchVersion()
    {
        byte* buffer = stackalloc byte[128];
        Check(_runtimeTorchVersion(buffer, 128), "reading the loaded libtorch's version");
        return Marshal.PtrToStringUTF8((IntPtr)buffer) ?? "";
    }

    internal TensorInfo Describe(Tensor tensor)
    {
        TensorInfo info;
        Check(_describe(tensor.Handle, &info), "describing a tensor");
        return info;
    }

    internal CudaMemoryStats MemoryStats(int deviceIndex)
    {
        long allocated, peakAllocated, reserved, peakReserved;
        Check(_memoryStats(deviceIndex, &allocated, &peakAllocated, &reserved, &peakReserved), "reading CUDA memory statistics");
        return new CudaMemoryStats(allocated, peakAllocated, reserved, peakReserved);
    }

    internal Tensor RmsNorm(Tensor input, Tensor? weight, double eps)
    {
        IntPtr result;
        Check(_rmsNorm(input.Handle, weight is null ? IntPtr.Zero : weight.Handle, eps, &result), "computing rms_norm");
        return Tensor.UnsafeCreateTensor(result);
    }

    internal void ResetPeakMemory(int deviceIndex) => Check(_resetPeak(deviceIndex), "resetting CUDA peak memory statistics");

    internal void Synchronize(int deviceIndex) => Check(_synchronize(deviceIndex), "synchronizing the CUDA device");

    internal bool IsCurrentStreamCapturing(int deviceIndex)
    {
        int capturing;
        Check(_isCapturing(deviceIndex, &capturing), "querying the stream's capture status");
        return capturing != 0;
    }

    public bool EmulatesReplay => false;

    public int? DeviceOf(Tensor tensor) =>
        tensor.device_type == DeviceType.CUDA ? Math.Max(0, tensor.device_index) : null;

    public int DeviceCount
    {
        get
        {
            int count;
            Check(_deviceCount(&count), "counting CUDA devices");
            return count;
        }
    }

    public (ulong First, ulong Second) NewPoolId()
    {
        ulong first, second;
        Check(_poolHandle(&first, &second), "creating a graph pool id");
        return (first, second);
    }

    public IntPtr CreateGraph(int deviceIndex)
    {
        IntPtr graph;
        Check(_create(deviceIndex, &graph), "creating a CUDA graph");
        return graph;
    }

    public void WarmupBegin(IntPtr graph) => Check(_warmupBegin(graph), "starting the warm-up on the capture stream");

    public void WarmupEnd(IntPtr graph) => Check(_warmupEnd(graph), "ending the warm-up");

    public void CaptureBegin(IntPtr graph, ulong poolFirst, ulong poolSecond, CudaGraphCaptureMode mode) =>
        Check(_captureBegin(graph, poolFirst, poolSecond, (int)mode), "beginning the capture");

    public (long Nodes, long Kernels) CaptureEnd(IntPtr graph)
    {
        long nodes, kernels;
        Check(_captureEnd(graph, &nodes, &kernels), "ending the capture");
        return (nodes, kernels);
    }

    public void CaptureAbort(IntPtr graph) => Check(_captureAbort(graph), "aborting the capture");

    public void Replay(IntPtr graph) => Check(_replay(graph), "replaying the graph");

    public void Reset(IntPtr graph) => Check(_reset(graph), "resetting the graph");

    public (ulong First, ulong Second) GraphPool(IntPtr graph)
    {
        ulong first, second;
        Check(_graphPool(graph, &first, &second), "reading the graph's pool");
        return (first, second);
    }

    public void Destroy(IntPtr graph) => Check(_destroy(graph), "destroying the graph");

    private void Check(int status, string what)
    {
        if (status == 0) return;
        string message = Marshal.PtrToStringUTF8(_lastError()) ?? "";
        throw new CudaGraphException(CudaGraphErrorKind.NativeCallFailed, $"{what} failed in {_libraryPath} (status {status}): {message}");
    }
}
