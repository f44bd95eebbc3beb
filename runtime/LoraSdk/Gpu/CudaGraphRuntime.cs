using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TorchSharp;

namespace LoraSdk.Gpu;

/// <summary>
/// The loaded native graph library (<c>liblorasdk_cuda_graph.so</c>, built from <c>native/</c> against the libtorch the
/// app runs on) and what it reports. Nothing loads it until a graph, a pool or <see cref="Load"/> asks for it; then it is
/// loaded once per process and checked: its C ABI, the libtorch version it was built against against the one loaded,
/// and that it reads TorchSharp's tensor handles (<c>at::Tensor*</c>) as TorchSharp does.
/// </summary>
public sealed class CudaGraphRuntime
{
    /// <summary>An environment variable naming the library's full path (it then replaces the search).</summary>
    public const string LibraryPathVariable = "LORASDK_CUDA_GRAPH_LIBRARY";

    private static readonly object Gate = new();
    private static CudaGraphRuntime? s_loaded;
    private static bool s_tryLoadFailed;

    private readonly NativeCudaGraphBackend _native;

    private CudaGraphRuntime(NativeCudaGraphBackend native, string libraryPath, string runtimeTorchVersion)
    {
        _native = native;
        LibraryPath = libraryPath;
        BuildTorchVersion = native.BuildTorchVersion;
        RuntimeTorchVersion = runtimeTorchVersion;
        BuildCudaVersion = native.BuildCudaVersion;
        CanCountNodes = native.CanCountNodes;
    }

    /// <summary>The library's file name on this operating system.</summary>
    public static string LibraryFileName =>
        OperatingSystem.IsWindows() ? "lorasdk_cuda_graph.dll" : OperatingSystem.IsMacOS() ? "liblorasdk_cuda_graph.dylib" : "liblorasdk_cuda_graph.so";

    /// <summary>Where the library was loaded from.</summary>
    public string LibraryPath { get; }

    /// <summary>The libtorch version the library was compiled against.</summary>
    public string BuildTorchVersion { get; }

    /// <summary>The libtorch version loaded in this process.</summary>
    public string RuntimeTorchVersion { get; }

    /// <summary>The CUDA runtime version the library was compiled against (e.g. 13000), or 0.</summary>
    public int BuildCudaVersion { get; }

    /// <summary>Whether captures report their node and kernel counts (libtorch 2.8 or later).</summary>
    public bool CanCountNodes { get; }

    internal ICudaGraphBackend Backend => _native;

    /// <summary>
    /// The places searched for the library, in order, when neither a path nor <see cref="LibraryPathVariable"/> is
    /// given: the app folder, its <c>runtimes/&lt;rid&gt;/native</c> folder, then the system's library search
    /// (<c>LD_LIBRARY_PATH</c> / <c>PATH</c>) by file name.
    /// </summary>
    public static IReadOnlyList<string> CandidatePaths()
    {
        string baseDir = AppContext.BaseDirectory;
        return new[]
        {
            Path.Combine(baseDir, LibraryFileName),
            Path.Combine(baseDir, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", LibraryFileName),
        };
    }

    /// <summary>
    /// Loads and checks the library (once per process; later calls return the loaded one).
    /// </summary>
    /// <param name="libraryPath">The library's path; null to use <see cref="LibraryPathVariable"/> or the search of <see cref="CandidatePaths"/>.</param>
    /// <exception cref="CudaGraphException">
    /// <see cref="CudaGraphErrorKind.NativeLibraryMissing"/>, <see cref="CudaGraphErrorKind.NativeLibraryLoadFailed"/>,
    /// <see cref="CudaGraphErrorKind.NativeAbiMismatch"/>, <see cref="CudaGraphErrorKind.TorchVersionMismatch"/>, or
    /// <see cref="CudaGraphErrorKind.InvalidArgument"/> when another library is already loaded.
    /// </exception>
    public static CudaGraphRuntime Load(string? libraryPath = null)
    {
        lock (Gate)
        {
            if (s_loaded is not null)
            {
                if (libraryPath is null || SamePath(libraryPath, s_loaded.LibraryPath)) return s_loaded;
                throw new CudaGraphException(CudaGraphErrorKind.InvalidArgument,
                    $"The CUDA graph library is already loaded from {s_loaded.LibraryPath}; it cannot be replaced by {libraryPath} in the same process.");
            }
            s_loaded = LoadCore(libraryPath);
            return s_loaded;
        }
    }

    /// <summary>
    /// The loaded library, loading it on the first call (as <see cref="Load"/> without a path); null when it is not
    /// there or cannot be used — remembered, so later calls cost nothing. For optional native kernels such as
    /// <see cref="RmsNorm"/>, whose callers fall back to composite TorchSharp ops.
    /// </summary>
    public static CudaGraphRuntime? TryLoad()
    {
        lock (Gate)
        {
            if (s_loaded is not null) return s_loaded;
            if (s_tryLoadFailed) return null;
            try
            {
                s_loaded = LoadCore(null);
                return s_loaded;
            }
            catch (CudaGraphException)
            {
                s_tryLoadFailed = true;
                return null;
            }
        }
    }

    /// <summary>
    /// libtorch's <c>rms_norm</c> over the last dimension of <paramref name="input"/>, which TorchSharp does not bind:
    /// <c>x · rsqrt(mean(x²) + eps) · weight</c>, on CUDA one fused kernel that accumulates in float32 and rounds once
    /// (what <c>torch.nn.functional.rms_norm</c> runs for diffusers).
    /// </summary>
    /// <param name="input">The tensor to normalise (any device libtorch supports).</param>
    /// <param name="weight">The per-feature scale (1-D, the last dimension's size), or null.</param>
    /// <param name="eps">Added to the mean square.</param>
    /// <exception cref="CudaGraphException">Invalid arguments (<see cref="CudaGraphErrorKind.InvalidArgument"/>) or libtorch's error.</exception>
    public torch.Tensor RmsNorm(torch.Tensor input, torch.Tensor? weight, double eps)
    {
        if (input is null) throw new ArgumentNullException(nameof(input));
        return _native.RmsNorm(input, weight, eps);
    }

    /// <summary>libtorch's CUDA caching-allocator counts for <paramref name="device"/>.</summary>
    public CudaMemoryStats MemoryStats(torch.Device device) => _native.MemoryStats(CudaIndex(device));

    /// <summary>Starts the peak counts of <see cref="MemoryStats"/> afresh.</summary>
    public void ResetPeakMemory(torch.Device device) => _native.ResetPeakMemory(CudaIndex(device));

    /// <summary>
    /// Whether the calling thread's current CUDA stream on <paramref name="device"/> is being captured (by this library
    /// or by anything else in the process); engine code can refuse host-side changes then.
    /// </summary>
    public bool IsCurrentStreamCapturing(torch.Device device) => _native.IsCurrentStreamCapturing(CudaIndex(device));

    /// <summary>
    /// The address of <paramref name="tensor"/>'s first element (its storage plus offset), as libtorch reports it: a
    /// diagnostic to check that state a graph reads keeps its storage (e.g. across a LoRA hotswap).
    /// </summary>
    public IntPtr DataPointer(torch.Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.IsInvalid) throw new CudaGraphException(CudaGraphErrorKind.InvalidArgument, "The tensor is disposed.");
        return new IntPtr(unchecked((long)_native.Describe(tensor).DataPtr));
    }

    /// <summary>Waits until all work on <paramref name="device"/> is done.</summary>
    public void Synchronize(torch.Device device) => _native.Synchronize(CudaIndex(device));

    /// <summary>The backend for a capture on <paramref name="device"/>: checks that it is a usable CUDA device, then loads the library.</summary>
    internal static ICudaGraphBackend BackendFor(torch.Device device, out int deviceIndex)
    {
        deviceIndex = CudaIndex(device);
        if (!torch.cuda.is_available())
        {
            throw new CudaGraphException(CudaGraphErrorKind.CudaUnavailable,
                "CUDA is not available to libtorch in this process (CPU-only natives, or no GPU/driver): CUDA graphs need TorchSharp's CUDA natives or a CUDA PyTorch's libraries.");
        }
        var runtime = Load();
        int count = runtime._native.DeviceCount;
        if (deviceIndex >= count)
        {
            throw new CudaGraphException(CudaGraphErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture, $"CUDA device {deviceIndex} does not exist ({count} device(s))."));
        }
        return runtime.Backend;
    }

    internal static int CudaIndex(torch.Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.type != DeviceType.CUDA)
        {
            throw new CudaGraphException(CudaGraphErrorKind.NotCudaDevice,
                $"'{device}' is not a CUDA device: CUDA graphs capture CUDA work only.");
        }
        return Math.Max(0, device.index);
    }

    private static CudaGraphRuntime LoadCore(string? libraryPath)
    {
        string? given = libraryPath;
        string source = "the libraryPath argument";
        if (given is null)
        {
            string? fromEnvironment = Environment.GetEnvironmentVariable(LibraryPathVariable);
            if (!string.IsNullOrWhiteSpace(fromEnvironment))
            {
                given = fromEnvironment;
                source = $"the environment variable {LibraryPathVariable}";
            }
        }

        IntPtr library;
        string loadedFrom;
        if (given is not null)
        {
            string full = Path.GetFullPath(given);
            if (!File.Exists(full))
            {
                throw new CudaGraphException(CudaGraphErrorKind.NativeLibraryMissing,
                    $"The CUDA graph library was not found at {full} (given by {source}). Build it with native/build.sh on a CUDA machine (docs/gpu-graphs.md).");
            }
            library = LoadFile(full);
            loadedFrom = full;
        }
        else
        {
            var candidates = CandidatePaths();
            string? found = candidates.FirstOrDefault(File.Exists);
            if (found is not null)
            {
                library = LoadFile(found);
                loadedFrom = found;
            }
            else
            {
                EnsureLibTorchLoaded();
                if (!NativeLibrary.TryLoad(LibraryFileName, out library))
                {
                    throw new CudaGraphException(CudaGraphErrorKind.NativeLibraryMissing,
                        $"The CUDA graph library {LibraryFileName} was not found: looked in {string.Join(", ", candidates)} and the system library search path. "
                        + $"Build it with native/build.sh on a CUDA machine and put it next to the app, or set {LibraryPathVariable} (docs/gpu-graphs.md).");
                }
                loadedFrom = LibraryFileName;
            }
        }

        try
        {
            var native = NativeCudaGraphBackend.Bind(library, loadedFrom);
            string runtimeVersion = native.RuntimeTorchVersion();
            string buildVersion = native.BuildTorchVersion;
            if (!SameRelease(buildVersion, runtimeVersion))
            {
                throw new CudaGraphException(CudaGraphErrorKind.TorchVersionMismatch,
                    $"{loadedFrom} was built against libtorch {buildVersion}, but this process runs libtorch {runtimeVersion}: "
                    + "rebuild it against the libtorch the app loads (native/build.sh --libtorch <dir>, docs/gpu-graphs.md).");
            }
            CheckHandleLayout(native, loadedFrom);
            return new CudaGraphRuntime(native, loadedFrom, runtimeVersion);
        }
        catch
        {
            NativeLibrary.Free(library);
            throw;
        }
    }

    private static IntPtr LoadFile(string path)
    {
        EnsureLibTorchLoaded();
        try
        {
            return NativeLibrary.Load(path);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            throw new CudaGraphException(CudaGraphErrorKind.NativeLibraryLoadFailed,
                $"The CUDA graph library at {path} could not be loaded: {e.Message} It needs the CUDA libtorch it was built against "
                + "(libtorch_cuda, libc10_cuda, the CUDA runtime) on the library path (LD_LIBRARY_PATH / PATH).", e);
        }
    }

    // libtorch (and its CUDA part, where present) must be in the process before the graph library, whose dependencies
    // are those very libraries: TorchSharp loads them on its first CUDA query.
    private static void EnsureLibTorchLoaded() => _ = torch.cuda.is_available();

    private static void CheckHandleLayout(NativeCudaGraphBackend native, string loadedFrom)
    {
        using var probe = torch.zeros(new long[] { 2, 3, 5 }, torch.ScalarType.Float32, torch.CPU);
        var info = native.Describe(probe);
        if (info.Numel != 30 || info.Dim != 3 || info.DeviceType != 0)
        {
            throw new CudaGraphException(CudaGraphErrorKind.NativeAbiMismatch,
                string.Create(CultureInfo.InvariantCulture,
                    $"{loadedFrom} reads TorchSharp's tensor handles differently (a 2x3x5 CPU tensor read as {info.Numel} elements, {info.Dim} dims, device type {info.DeviceType}): it was built against another libtorch."));
        }
    }

    /// <summary>Whether two libtorch version strings name the same major.minor.patch release (local tags like <c>+cu130</c> ignored).</summary>
    internal static bool SameRelease(string a, string b)
    {
        string? x = Release(a), y = Release(b);
        return x is not null && x == y;
    }

    private static string? Release(string version)
    {
        int end = 0;
        while (end < version.Length && (char.IsAsciiDigit(version[end]) || version[end] == '.')) end++;
        var parts = version[..end].Split('.', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 3 ? string.Join('.', parts.Take(3).Select(p => int.Parse(p, CultureInfo.InvariantCulture))) : null;
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
}
