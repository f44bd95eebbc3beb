using System;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Gpu;

namespace LoraSdk.Engine.Tests.Gpu;

/// <summary>
/// Loading the native graph library where it is absent or broken (every CPU-only machine): each case is a typed
/// <see cref="CudaGraphException"/> of category <see cref="LoraSdkErrorCategory.Native"/> that says where it looked.
/// </summary>
[Collection(CudaGraphCollection.Name)]
public sealed class CudaGraphRuntimeTests
{
    [Fact]
    public void A_missing_library_path_is_named_in_the_error()
    {
        string path = Path.Combine(Path.GetTempPath(), "lorasdk-no-such-dir", CudaGraphRuntime.LibraryFileName);
        var e = Assert.Throws<CudaGraphException>(() => CudaGraphRuntime.Load(path));
        Assert.Equal(CudaGraphErrorKind.NativeLibraryMissing, e.Kind);
        Assert.Equal(LoraSdkErrorCategory.Native, e.Category);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("native/build.sh", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_environment_variable_replaces_the_search()
    {
        string path = Path.Combine(Path.GetTempPath(), "lorasdk-env-missing", CudaGraphRuntime.LibraryFileName);
        string? before = Environment.GetEnvironmentVariable(CudaGraphRuntime.LibraryPathVariable);
        try
        {
            Environment.SetEnvironmentVariable(CudaGraphRuntime.LibraryPathVariable, path);
            var e = Assert.Throws<CudaGraphException>(() => CudaGraphRuntime.Load());
            Assert.Equal(CudaGraphErrorKind.NativeLibraryMissing, e.Kind);
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
            Assert.Contains(CudaGraphRuntime.LibraryPathVariable, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(CudaGraphRuntime.LibraryPathVariable, before);
        }
    }

    [Fact]
    public void Without_a_built_library_the_default_search_lists_where_it_looked()
    {
        if (Environment.GetEnvironmentVariable(CudaGraphRuntime.LibraryPathVariable) is { Length: > 0 }) return;
        if (CudaGraphRuntime.CandidatePaths().Any(File.Exists)) return;  // a machine with the library built
        var e = Assert.Throws<CudaGraphException>(() => CudaGraphRuntime.Load());
        Assert.Equal(CudaGraphErrorKind.NativeLibraryMissing, e.Kind);
        Assert.Equal(LoraSdkErrorCategory.Native, e.Category);
        foreach (string candidate in CudaGraphRuntime.CandidatePaths())
            Assert.Contains(candidate, e.Message, StringComparison.Ordinal);
        Assert.Contains(CudaGraphRuntime.LibraryPathVariable, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_without_a_built_library_is_null_and_stays_null()
    {
        // Optional native kernels (RmsNorm on CUDA) ask TryLoad and fall back to TorchSharp ops when it is null.
        if (Environment.GetEnvironmentVariable(CudaGraphRuntime.LibraryPathVariable) is { Length: > 0 }) return;
        if (CudaGraphRuntime.CandidatePaths().Any(File.Exists)) return;  // a machine with the library built
        Assert.Null(CudaGraphRuntime.TryLoad());
        Assert.Null(CudaGraphRuntime.TryLoad());
        // Load still looks again and says why.
        var e = Assert.Throws<CudaGraphException>(() => CudaGraphRuntime.Load());
        Assert.Equal(CudaGraphErrorKind.NativeLibraryMissing, e.Kind);
    }

    [Fact]
    public void A_file_that_is_not_a_loadable_library_is_reported_with_the_loaders_reason()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lorasdk-bad-lib-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, CudaGraphRuntime.LibraryFileName);
        try
        {
            File.WriteAllText(path, "not a shared library");
            var e = Assert.Throws<CudaGraphException>(() => CudaGraphRuntime.Load(path));
            Assert.Equal(CudaGraphErrorKind.NativeLibraryLoadFailed, e.Kind);
            Assert.Equal(LoraSdkErrorCategory.Native, e.Category);
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
            Assert.NotNull(e.InnerException);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("2.11.0", "2.11.0", true)]
    [InlineData("2.11.0", "2.11.0+cu130", true)]
    [InlineData("2.10.0", "2.11.0", false)]
    [InlineData("2.11.0", "2.11.1", false)]
    [InlineData("2.11.0a0+git1234", "2.11.0", true)]
    [InlineData("", "2.11.0", false)]
    [InlineData("unknown", "unknown", false)]
    public void Versions_match_by_major_minor_patch(string built, string loaded, bool same) =>
        Assert.Equal(same, CudaGraphRuntime.SameRelease(built, loaded));
}
