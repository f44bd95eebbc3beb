using LoraSdk.Adapters;

namespace LoraSdk.Compatibility;

/// <summary>
/// How diffusers and PEFT report the errors the engine reports: the Python exception type, and their message where it
/// names Python (<c>hotswap=False</c>, <c>enable_lora_hotswap</c>, <c>self._lora_loadable_modules</c>). A
/// <see cref="LoraException"/>'s <c>Message</c> speaks C# (<c>hotswap: false</c>, <c>EnableLoraHotswap</c>); its
/// <see cref="LoraException.DiffusersMessage"/> is diffusers' text, for code and tests that compare with diffusers.
/// </summary>
public static class DiffusersErrors
{
    /// <summary>The Python exception diffusers/PEFT raise for <paramref name="kind"/> (<c>ValueError</c> or <c>RuntimeError</c>).</summary>
    public static string PythonType(LoraErrorKind kind) => kind switch
    {
        LoraErrorKind.HotswapAfterLoad or LoraErrorKind.HotswapUnexpectedKeys => "RuntimeError",
        _ => "ValueError",
    };

    internal const string HotswapAfterLoad = "Call `enable_lora_hotswap` before loading the first adapter.";

    internal const string HotswapAfterLoadWarning = "It is recommended to call `enable_lora_hotswap` before loading the first adapter to avoid recompilation.";

    internal const string HotswapTextEncoder = "At the moment, hotswapping is not supported for text encoders, please pass `hotswap=False`.";

    internal static string HotswapUnknownAdapter(string? adapterName) =>
        $"Trying to hotswap LoRA adapter '{adapterName ?? "None"}' but there is no existing adapter by that name. " +
        "Please choose an existing adapter name or set `hotswap=False` to prevent hotswapping.";

    internal static string UnknownComponent(string name, string pythonListOfComponents) =>
        $"{name} is not found in self._lora_loadable_modules={pythonListOfComponents}.";
}
