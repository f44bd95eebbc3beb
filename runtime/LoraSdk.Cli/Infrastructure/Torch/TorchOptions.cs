using System;
using System.CommandLine;
using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Cli.Infrastructure.Torch;

/// <summary>Options shared by the commands that run libtorch: <c>--dtype</c>, <c>--device</c>, <c>--threads</c>.</summary>
internal static class TorchOptions
{
    /// <summary><c>--dtype float32|bfloat16|float16</c> (also fp32, bf16, fp16), default float32; see <see cref="ToScalarType"/>.</summary>
    public static Option<string> DType(string? description = null) => new("--dtype")
    {
        Description = description ?? "Parameter dtype: float32 (fp32), bfloat16 (bf16) or float16 (fp16). A float16 VAE with force_upcast decodes in float32, like diffusers.",
        HelpName = "dtype",
        DefaultValueFactory = _ => "float32",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (TryScalarType(text, out _)) return text;
            result.AddError($"--dtype must be float32, bfloat16 or float16, not '{text}'");
            return "float32";
        },
    };

    /// <summary>The dtype of a validated <c>--dtype</c> value.</summary>
    public static ScalarType ToScalarType(string text) =>
        TryScalarType(text, out var dtype) ? dtype : throw new UsageException($"--dtype must be float32, bfloat16 or float16, not '{text}'");

    private static bool TryScalarType(string text, out ScalarType dtype)
    {
        switch (text.ToLowerInvariant())
        {
            case "float32" or "fp32": dtype = ScalarType.Float32; return true;
            case "bfloat16" or "bf16": dtype = ScalarType.BFloat16; return true;
            case "float16" or "fp16": dtype = ScalarType.Float16; return true;
            default: dtype = ScalarType.Float32; return false;
        }
    }

    /// <summary><c>--device cpu|cuda|cuda:N</c>, default cpu.</summary>
    public static Option<string> Device() => new("--device")
    {
        Description = "Where the model runs: cpu, cuda or cuda:N (CUDA needs a TorchSharp-cuda native package instead of the CPU libtorch this tool ships).",
        HelpName = "device",
        DefaultValueFactory = _ => "cpu",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (Regex.IsMatch(text, "^(cpu|cuda(:[0-9]{1,2})?)$")) return text;
            result.AddError($"--device must be cpu, cuda or cuda:N, not '{text}'");
            return "cpu";
        },
    };

    /// <summary><c>--threads N</c>: libtorch intra-op threads.</summary>
    public static Option<int?> Threads() =>
        CliOptions.Int("--threads", "N", "libtorch intra-op threads (default: libtorch's choice, usually the number of cores).", 1, 1024);

    /// <summary>The device for a validated <c>--device</c> value; CUDA must be available.</summary>
    public static Device ToDevice(string text)
    {
        if (text == "cpu") return CPU;
        if (!cuda.is_available())
            throw new CliFailure($"--device {text}: CUDA is not available (no GPU, or the CPU libtorch package; see docs/cli.md)");
        var device = new Device(text);
        if (device.index >= cuda.device_count())
            throw new CliFailure($"--device {text}: there are only {cuda.device_count()} CUDA device(s)");
        return device;
    }

    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    public static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Float64 => 8,
        _ => 4,
    };

    /// <summary>Short name for messages.</summary>
    public static string Name(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float32 => "float32",
        _ => dtype.ToString(),
    };

    /// <summary>Throws when the process has fewer than <paramref name="needed"/> bytes of <paramref name="environment"/>'s memory.</summary>
    public static void RequireMemory(CliEnvironment environment, long needed, string what)
    {
        long? available = environment.AvailableMemoryBytes();
        if (available is long a && needed > a)
            throw new CliFailure($"{what} needs about {Gib(needed)} of memory, but only {Gib(a)} is available to this process; " +
                                 "use a smaller --width/--height (or free memory)", ExitCodes.OutOfMemory);
    }

    /// <summary>Bytes as GiB with one decimal.</summary>
    public static string Gib(long bytes) => (bytes / (1024.0 * 1024 * 1024)).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " GiB";

}
