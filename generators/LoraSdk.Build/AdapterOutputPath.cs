namespace LoraSdk.Build;

/// <summary>
/// Where an adapter file is copied, relative to the output folder: <c>loras/&lt;first 16 hex digits of its
/// SHA-256&gt;/&lt;file name&gt;</c>. Content-addressed, so the path is stable while the bytes are, unique for different
/// bytes (two files named <c>style.safetensors</c> in two folders do not collide), and new whenever the bytes change:
/// MSBuild's copy step then always copies the new file, whatever its timestamp. The generated
/// <c>LoraAdapter.RuntimePath</c> is this path (written to the sidecar as <c>runtimePath</c>).
/// </summary>
internal static class AdapterOutputPath
{
    public const string Folder = "loras";

    /// <summary>Hex digits of the hash in the folder name (64 bits: no collision among the files of a project).</summary>
    public const int HashDigits = 16;

    public static string Of(string sha256, string fileName) => Folder + "/" + sha256.Substring(0, HashDigits) + "/" + fileName;
}
