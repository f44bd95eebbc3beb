using System.Runtime.InteropServices;

/// <summary>
/// The CUDA driver's profiler API (<c>cuProfilerStart</c>/<c>cuProfilerStop</c>), called directly (TorchSharp has
/// none): the range <c>ncu --profile-from-start off</c> measures (benchmarks/gpu/kernel-profile.sh). Used by
/// <see cref="ProfileStepCommand"/> and <see cref="FluxProfileStepCommand"/>.
/// </summary>
internal static class CudaProfilerRange
{
    [DllImport("libcuda.so.1")]
    private static extern int cuProfilerStart();

    [DllImport("libcuda.so.1")]
    private static extern int cuProfilerStop();

    /// <summary>CUresult of <c>cuProfilerStart</c> (0: success).</summary>
    public static int Start() => cuProfilerStart();

    /// <summary>CUresult of <c>cuProfilerStop</c> (0: success).</summary>
    public static int Stop() => cuProfilerStop();
}
