using System;
using LoraSdk.Compatibility;
using LoraSdk.Core;

namespace LoraSdk.Adapters;

/// <summary>
/// A failed LoRA operation. <see cref="Exception.Message"/> is diffusers'/PEFT's message where one exists (so code
/// and users recognize it), worded for C# where diffusers' names Python; <see cref="DiffusersMessage"/> is diffusers'
/// own text (see <see cref="Compatibility.DiffusersErrors"/>). A failed operation changed nothing: weights, adapters,
/// scales and active lists are as before the call.
/// </summary>
public sealed class LoraException : LoraSdkException
{
    /// <summary>Creates the exception.</summary>
    public LoraException(LoraErrorKind kind, string message, string? adapterName = null, string? modulePath = null,
        string? sourceName = null, string? component = null, Exception? innerException = null, string? diffusersMessage = null)
        : base(CategoryOf(kind), message, innerException)
    {
        Kind = kind;
        DiffusersMessage = diffusersMessage ?? message;
        AdapterName = adapterName;
        ModulePath = modulePath;
        SourceName = sourceName;
        Component = component;
    }

    /// <summary>A hotswap into a text encoder, which diffusers does not support (refused before anything changes).</summary>
    internal static LoraException HotswapIntoTextEncoder(string? adapterName, string sourceName, string? component = null) =>
        new(LoraErrorKind.HotswapTextEncoder, "At the moment, hotswapping is not supported for text encoders; load with hotswap: false.",
            adapterName: adapterName, sourceName: sourceName, component: component, diffusersMessage: DiffusersErrors.HotswapTextEncoder);

    /// <summary>Why the operation failed.</summary>
    public LoraErrorKind Kind { get; }

    /// <summary>The adapter concerned, if any.</summary>
    public string? AdapterName { get; }

    /// <summary>The module path concerned, if any.</summary>
    public string? ModulePath { get; }

    /// <summary>The file concerned, if any.</summary>
    public string? SourceName { get; }

    /// <summary>The component concerned (<c>unet</c>, <c>text_encoder</c>, ...), if any.</summary>
    public string? Component { get; }

    /// <summary>
    /// diffusers'/PEFT's message for the same failure (equal to <see cref="Exception.Message"/> unless that one had to
    /// be reworded for C#, e.g. <c>hotswap=False</c> → <c>hotswap: false</c>).
    /// </summary>
    public string DiffusersMessage { get; }

    private static LoraSdkErrorCategory CategoryOf(LoraErrorKind kind) => kind switch
    {
        LoraErrorKind.UnknownAdapter or LoraErrorKind.UnknownComponent or LoraErrorKind.AdapterNotFound or LoraErrorKind.SourceNotFound
            or LoraErrorKind.HotswapUnknownAdapter or LoraErrorKind.UnknownBlock => LoraSdkErrorCategory.NotFound,
        LoraErrorKind.WeightsLengthMismatch or LoraErrorKind.BlockScaleLength or LoraErrorKind.InvalidWeights
            or LoraErrorKind.DuplicateAdapterName or LoraErrorKind.AmbiguousSource => LoraSdkErrorCategory.InvalidArgument,
        LoraErrorKind.HotswapAfterLoad or LoraErrorKind.GraphPinned or LoraErrorKind.GraphCaptureUnderway
            or LoraErrorKind.GraphNotPinned => LoraSdkErrorCategory.InvalidOperation,
        LoraErrorKind.UnsupportedVariant or LoraErrorKind.UnsupportedLayer or LoraErrorKind.HotswapTextEncoder
            or LoraErrorKind.UnsupportedConfig or LoraErrorKind.GraphUnsupported => LoraSdkErrorCategory.Unsupported,
        LoraErrorKind.UnmappedKeys or LoraErrorKind.NothingToLoad or LoraErrorKind.NonFiniteFusedWeights
            or LoraErrorKind.AdapterConfigMismatch => LoraSdkErrorCategory.InvalidFile,
        _ => LoraSdkErrorCategory.Incompatible,
    };
}
