using System;
using System.IO;
using System.Runtime.CompilerServices;

namespace LoraSdk.Generators.Tests.Infrastructure;

/// <summary>
/// Snapshot assertions following Verify's conventions (Verify itself cannot be restored here):
/// <c>_snapshots/{TestClass}.{TestMethod}[_{suffix}].verified.cs</c> beside the test file holds the accepted text; a
/// mismatch or a missing snapshot writes <c>….received.cs</c> next to it (git-ignored) and fails. Snapshots are never
/// accepted automatically when the <c>CI</c> environment variable is set; locally, <c>LORASDK_ACCEPT_SNAPSHOTS=1</c>
/// writes the received text as the verified snapshot (like Verify's AutoVerify); review it with git diff.
/// </summary>
internal static class Snapshot
{
    public static void Verify(string actual, string? suffix = null, [CallerFilePath] string testFile = "", [CallerMemberName] string testMethod = "")
    {
        string folder = Path.Combine(Path.GetDirectoryName(testFile)!, "_snapshots");
        string name = Path.GetFileNameWithoutExtension(testFile) + "." + testMethod + (suffix == null ? "" : "_" + suffix);
        string verified = Path.Combine(folder, name + ".verified.cs");
        string received = Path.Combine(folder, name + ".received.cs");
        string text = Normalize(actual);
        if (File.Exists(verified) && Normalize(File.ReadAllText(verified)) == text)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        Directory.CreateDirectory(folder);
        bool ci = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));
        bool accept = !ci && Environment.GetEnvironmentVariable("LORASDK_ACCEPT_SNAPSHOTS") == "1";
        if (accept)
        {
            File.WriteAllText(verified, text);
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        File.WriteAllText(received, text);
        string detail = File.Exists(verified) ? FirstDifference(Normalize(File.ReadAllText(verified)), text) : "no verified snapshot yet";
        throw new Xunit.Sdk.XunitException(
            $"Snapshot mismatch for {name}: {detail}.\nReceived: {received}\nVerified: {verified}\n" +
            "Compare the files; to accept locally, rerun with LORASDK_ACCEPT_SNAPSHOTS=1 (never on CI).");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n");

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string el = i < e.Length ? e[i] : "<end>";
            string al = i < a.Length ? a[i] : "<end>";
            if (el != al) return $"line {i + 1}: verified `{el}` vs received `{al}`";
        }
        return "texts differ";
    }
}
