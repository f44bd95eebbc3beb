using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Engine.Tests.Lora;
using LoraSdk.IO;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.IO;

/// <summary>All-or-nothing file writes: a failure never leaves a truncated file or a temporary file behind.</summary>
public sealed class AtomicFileTests
{
    [Fact]
    public void AFailureHalfwayLeavesTheOldFileAndNoTemporaryFile()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "image.png");
        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        var error = Assert.Throws<FileWriteException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[1000]);
            throw new IOException("No space left on device");
        }));
        Assert.Equal(LoraSdkErrorCategory.IO, error.Category);
        Assert.Equal($"{path}: cannot write: No space left on device (an existing file is left unchanged)", error.Message);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Equal(new[] { "image.png" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AnyOtherFailureIsRethrownAfterCleaningUp()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "x.bin");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, _ => throw new InvalidOperationException("bad tensor")));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void ASuccessfulWriteReplacesTheFileAndCreatesMissingFolders()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "a", "b", "x.bin");
        AtomicFile.Write(path, s => s.Write(new byte[] { 9 }));
        AtomicFile.Write(path, s => s.Write(new byte[] { 7, 7 }));
        Assert.Equal(new byte[] { 7, 7 }, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void ADirectoryOrAFileInsteadOfAFolderIsReportedInWords()
    {
        using var dir = new TempDir();
        var directory = Assert.Throws<FileWriteException>(() => AtomicFile.Write(dir.Path, s => s.WriteByte(1)));
        Assert.Equal($"{dir.Path}: is a directory; expected a file path", directory.Message);
        Assert.Equal(LoraSdkErrorCategory.InvalidArgument, directory.Category);

        string file = Path.Combine(dir.Path, "file");
        File.WriteAllText(file, "x");
        var underFile = Assert.Throws<FileWriteException>(() => AtomicFile.Write(Path.Combine(file, "x.bin"), s => s.WriteByte(1)));
        Assert.StartsWith($"{Path.Combine(file, "x.bin")}: cannot create the folder {file}", underFile.Message);
        Assert.Equal("x", File.ReadAllText(file));
    }

    [Fact]
    public void SafetensorsWriterGoesThroughIt()
    {
        using var dir = new TempDir();
        using var t = ones(2, 2);
        var error = Assert.Throws<FileWriteException>(() => SafetensorsWriter.Save(dir.Path, new[] { new KeyValuePair<string, Tensor>("x", t) }));
        Assert.Contains("is a directory", error.Message);
        Assert.True(Directory.Exists(dir.Path));
    }
}
