using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Support;

/// <summary>
/// Process-wide torch settings for this test assembly: one intra-op thread, as the goldens were computed
/// (<c>torch.set_num_threads(1)</c>), and because libtorch's threads slow down by orders of magnitude on an
/// oversubscribed machine (the shared build box runs several test processes at once).
/// </summary>
internal static class TorchTestSettings
{
#pragma warning disable CA2255 // a test assembly, not a library: the initializer runs once before any test
    [ModuleInitializer]
    internal static void Initialize() => set_num_threads(1);
#pragma warning restore CA2255
}
