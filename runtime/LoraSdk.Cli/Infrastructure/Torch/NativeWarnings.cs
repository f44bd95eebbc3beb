using static TorchSharp.torch;

namespace LoraSdk.Cli.Infrastructure.Torch;

/// <summary>
/// libtorch prints some warnings once per process straight to stderr the first time a kernel family runs (on CPUs
/// without NNPACK support: "Could not initialize NNPACK! Reason: Unsupported hardware." at the first convolution).
/// Running a 1×1 convolution before progress starts makes such lines appear before the progress display instead of in
/// the middle of a redrawn status line.
/// </summary>
internal static class NativeWarnings
{
    private static bool _emitted;

    /// <summary>Runs the tiny convolution once per process.</summary>
    public static void EmitOnce()
    {
        if (_emitted) return;
        _emitted = true;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var input = zeros(1, 1, 2, 2);
        var weight = zeros(1, 1, 1, 1);
        nn.functional.conv2d(input, weight);
    }
}
