using System;
using System.IO;

namespace LoraSdk.Diffusion.Tests.Support;

/// <summary>A temporary folder deleted on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    /// <summary>Creates a fresh folder under the system temp path.</summary>
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lorasdk-diffusion-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>Copies <paramref name="sourceFolder"/>'s files (recursively) into <c>Path/name</c> and returns that path.</summary>
    public string CopyFolder(string sourceFolder, string name)
    {
        string target = System.IO.Path.Combine(Path, name);
        foreach (var dir in Directory.GetDirectories(sourceFolder, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(dir.Replace(sourceFolder, target));
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(sourceFolder, "*", SearchOption.AllDirectories))
            File.Copy(file, file.Replace(sourceFolder, target));
        return target;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, true);
        }
        catch (IOException)
        {
        }
    }
}
