using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using LoraSdk.Core;
using LoraSdk.Gpu;
using Xunit.Abstractions;

namespace LoraSdk.Engine.Tests.Gpu;

/// <summary>
/// The C# side of the native graph library's contract, checked without a GPU: the wrapper binds exactly the functions
/// native/include/lorasdk_cuda_graph.h declares, with the header's ABI version and struct layout; and a library that
/// does not fit (another ABI version, a missing export, another libtorch release, another reading of tensor handles, a
/// failing call) is refused with a typed error and not kept loaded. The misfitting libraries are a C stub
/// (Gpu/Stub/lsg_stub.c) compiled here with the system C compiler.
/// </summary>
[Collection(CudaGraphCollection.Name)]
public sealed class NativeLibraryCheckTests
{
    private readonly ITestOutputHelper _output;

    public NativeLibraryCheckTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void The_wrapper_binds_exactly_the_functions_the_header_declares()
    {
        string header = File.ReadAllText(Path.Combine(RepoRoot(), "native", "include", "lorasdk_cuda_graph.h"));
        var declared = Regex.Matches(header, @"LSG_API\s+[\w\s\*]+?\b(lsg_\w+)\s*\(").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.True(declared.Count >= 20, $"only {declared.Count} declarations parsed");
        Assert.Equal(declared.OrderBy(n => n, StringComparer.Ordinal), NativeCudaGraphBackend.ExportNames.OrderBy(n => n, StringComparer.Ordinal));

        string source = File.ReadAllText(Path.Combine(RepoRoot(), "native", "src", "lorasdk_cuda_graph.cpp"));
        foreach (string name in declared)
            Assert.True(Regex.IsMatch(source, @"LSG_API\s+[\w\s\*]+?\b" + name + @"\s*\("), $"{name} is declared but not defined in lorasdk_cuda_graph.cpp");

        var abi = Regex.Match(header, @"#define\s+LSG_ABI_VERSION\s+(\d+)");
        Assert.Equal(NativeCudaGraphBackend.AbiVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), abi.Groups[1].Value);
        // lsg_tensor_info: int32, int32, int64, int64, uint64, int32, int32 (C layout: 40 bytes).
        Assert.Equal(40, Marshal.SizeOf<NativeCudaGraphBackend.TensorInfo>());
        Assert.Equal(8, (int)Marshal.OffsetOf<NativeCudaGraphBackend.TensorInfo>(nameof(NativeCudaGraphBackend.TensorInfo.Numel)));
        Assert.Equal(24, (int)Marshal.OffsetOf<NativeCudaGraphBackend.TensorInfo>(nameof(NativeCudaGraphBackend.TensorInfo.DataPtr)));
    }

    [Theory]
    [InlineData("abi3", "-DSTUB_ABI=3", CudaGraphErrorKind.NativeAbiMismatch, "C ABI version 3")]
    [InlineData("no-replay", "-DSTUB_OMIT_REPLAY", CudaGraphErrorKind.NativeAbiMismatch, "does not export lsg_graph_replay")]
    [InlineData("torch-2.9", "-DSTUB_BUILD=\"2.9.0\"", CudaGraphErrorKind.TorchVersionMismatch, "built against libtorch 2.9.0, but this process runs libtorch 2.11.0+cu130")]
    [InlineData("handles", "-DSTUB_NUMEL=31", CudaGraphErrorKind.NativeAbiMismatch, "reads TorchSharp's tensor handles differently")]
    [InlineData("runtime-fails", "-DSTUB_RUNTIME_FAILS", CudaGraphErrorKind.NativeCallFailed, "stub: no GPU here")]
    public void A_library_that_does_not_fit_is_refused_and_not_kept(string variant, string define, CudaGraphErrorKind kind, string expected)
    {
        if (!OperatingSystem.IsLinux())
        {
            _output.WriteLine("the stub library is built for Linux only");
            return;
        }
        string? library = BuildStub(variant, define);
        if (library is null) return;
        try
        {
            var e = Assert.Throws<CudaGraphException>(() => CudaGraphRuntime.Load(library));
            Assert.Equal(kind, e.Kind);
            Assert.Equal(LoraSdkErrorCategory.Native, e.Category);
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
            Assert.Contains(library, e.Message, StringComparison.Ordinal);
            // Not kept: the next load looks again (and finds nothing at a missing path).
            var again = Assert.Throws<CudaGraphException>(() => CudaGraphRuntime.Load(library + ".missing"));
            Assert.Equal(CudaGraphErrorKind.NativeLibraryMissing, again.Kind);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(Path.GetDirectoryName(library)!)!, recursive: true);
        }
    }

    private string? BuildStub(string variant, string define)
    {
        string source = Path.Combine(RepoRoot(), "tests", "LoraSdk.Engine.Tests", "Gpu", "Stub", "lsg_stub.c");
        string dir = Path.Combine(Path.GetTempPath(), "lorasdk-lsg-stub-" + Guid.NewGuid().ToString("N"), variant);
        Directory.CreateDirectory(dir);
        string library = Path.Combine(dir, CudaGraphRuntime.LibraryFileName);
        var start = new ProcessStartInfo("cc") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in new[] { "-shared", "-fPIC", "-O0", define, "-o", library, source }) start.ArgumentList.Add(arg);
        Process? cc;
        try
        {
            cc = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            _output.WriteLine("no C compiler (cc) on this machine: the stub-library checks did not run");
            return null;
        }
        Assert.NotNull(cc);
        string errors = cc!.StandardError.ReadToEnd();
        cc.WaitForExit();
        Assert.True(cc.ExitCode == 0, $"cc failed for {variant}: {errors}");
        return library;
    }

    private static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "LoraSdk.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("LoraSdk.sln not found above " + AppContext.BaseDirectory);
    }
}
