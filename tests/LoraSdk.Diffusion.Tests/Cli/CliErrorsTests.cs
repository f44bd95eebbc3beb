using System;
using System.IO;
using LoraSdk.Cli;
using LoraSdk.Cli.Infrastructure;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Cli;

/// <summary>How exceptions become one line and an exit code, with real libtorch errors (which carry a C++ backtrace).</summary>
public sealed class CliErrorsTests
{
    [Fact]
    public void ANativeLibtorchErrorBecomesItsFirstLine()
    {
        // (Not every TorchSharp 0.107 entry point catches libtorch's C++ exceptions — matmul of mismatched shapes
        // terminates the process — so the CLI validates its inputs up front; view is one that reports.)
        using var a = zeros(2, 3);
        var error = Assert.ThrowsAny<Exception>(() => a.view(7).Dispose());
        Assert.Contains('\n', error.Message); // libtorch's message has a backtrace
        var (code, message) = CliErrors.Describe(error);
        Assert.Equal(ExitCodes.Failed, code);
        Assert.StartsWith("libtorch: ", message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void ALibtorchAllocationFailureIsExitThree()
    {
        var error = Assert.ThrowsAny<Exception>(() => empty(new long[] { 1L << 46 }, ScalarType.Float32).Dispose());
        var (code, message) = CliErrors.Describe(error);
        Assert.Equal(ExitCodes.OutOfMemory, code);
        Assert.StartsWith("not enough memory", message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void EveryKindOfFailureHasItsCode()
    {
        Assert.Equal(ExitCodes.Usage, CliErrors.Describe(new UsageException("x")).ExitCode);
        Assert.Equal(ExitCodes.OutOfMemory, CliErrors.Describe(new CliFailure("x", ExitCodes.OutOfMemory)).ExitCode);
        Assert.Equal(ExitCodes.Interrupted, CliErrors.Describe(new OperationCanceledException()).ExitCode);
        Assert.Equal(ExitCodes.OutOfMemory, CliErrors.Describe(new OutOfMemoryException()).ExitCode);
        Assert.Equal(ExitCodes.Failed, CliErrors.Describe(new IOException("disk")).ExitCode);
        var (code, message) = CliErrors.Describe(new NullReferenceException("boom"));
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal("internal error (NullReferenceException): boom (set LORASDK_DEBUG=1 for details)", message);
    }
}
