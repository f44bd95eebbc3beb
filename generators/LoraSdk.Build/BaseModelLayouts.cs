using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using LoraSdk.Core;

namespace LoraSdk.Build;

/// <summary>
/// The layouts of the manifest's base model: the options the LoRA file model reads keys with (SGM block names
/// depend on the UNet's <c>layers_per_block</c>) and the layouts each component is checked against
/// (<see cref="LoraFileModel.CheckCompatibility"/>; null = that component is not checked). A Flux base model
/// (<c>"flux"</c>, <c>"architecture": "flux"</c> or a <c>transformerConfig</c>) has a <c>transformer</c> and CLIP-L
/// <c>text_encoder</c>, and no UNet or <c>text_encoder_2</c> LoRA; a UNet base model has no <c>transformer</c>.
/// </summary>
internal sealed class BaseModelLayouts
{
    private BaseModelLayouts(string name, string? architecture, LoraFileModelOptions options, UnetLayout? unet, TextEncoderLayout? textEncoder,
        TextEncoderLayout? textEncoder2, bool hasTextEncoder2, string key, string? error, string? customUnetName = null,
        FluxTransformerLayout? transformer = null, bool? isFlux = false, string? customTransformerName = null)
    {
        Transformer = transformer;
        IsFlux = isFlux;
        _customTransformerName = customTransformerName;
        Name = name;
        Architecture = architecture;
        _customUnetName = customUnetName;
        Options = options;
        Unet = unet;
        TextEncoder = textEncoder;
        TextEncoder2 = textEncoder2;
        HasTextEncoder2 = hasTextEncoder2;
        Key = key;
        Error = error;
    }

    private readonly string? _customUnetName;
    private readonly string? _customTransformerName;

    /// <summary>The base model's name (<c>sdxl</c>, <c>sd15</c>, <c>sd2</c> or the custom name).</summary>
    public string Name { get; }

    /// <summary>The architecture (<c>sdxl</c>, <c>sd15</c>, <c>sd2</c>): the built-in name, or a custom model's <c>architecture</c> (null when none).</summary>
    public string? Architecture { get; }

    public LoraFileModelOptions Options { get; }

    public UnetLayout? Unet { get; }

    public TextEncoderLayout? TextEncoder { get; }

    public TextEncoderLayout? TextEncoder2 { get; }

    /// <summary>False for SD 1.x / SD 2.x and Flux: a <c>text_encoder_2</c> part has nowhere to go.</summary>
    public bool HasTextEncoder2 { get; }

    /// <summary>The Flux transformer layout the <c>transformer</c> component is checked against, or null (not checked).</summary>
    public FluxTransformerLayout? Transformer { get; }

    /// <summary>
    /// True for a Flux base model (a <c>unet</c> part has nowhere to go), false for a UNet one (a <c>transformer</c>
    /// part has nowhere to go), null for a custom model of unknown family (neither is checked).
    /// </summary>
    public bool? IsFlux { get; }

    /// <summary>Identifies the layouts (including config file contents) for the sidecar cache stamps.</summary>
    public string Key { get; }

    /// <summary>Why a configured layout could not be read (reported by the generator as LSDK001), or null.</summary>
    public string? Error { get; }

    /// <summary>
    /// The file's implied architecture in the vocabulary of <c>DeclaredArchitecture</c>: the formats core names the
    /// layout the shapes fit, which for a custom <c>unetConfig</c> is the custom model's name; that becomes the custom
    /// model's <see cref="Architecture"/> (null when it declares none). Built-in names pass through.
    /// </summary>
    public string? ImpliedArchitecture(string? fromFormatsCore) =>
        fromFormatsCore != null && (string.Equals(fromFormatsCore, _customUnetName, StringComparison.Ordinal)
                                    || string.Equals(fromFormatsCore, _customTransformerName, StringComparison.Ordinal))
            ? Architecture
            : fromFormatsCore;

    /// <summary>Resolves <c>baseModel</c> (config paths relative to <paramref name="manifestDirectory"/>).</summary>
    public static BaseModelLayouts Resolve(JsonValue? baseModel, string manifestDirectory)
    {
        if (baseModel is { Kind: JsonValueKind.String })
            return BuiltIn(baseModel.AsString()) ?? BuiltIn("sdxl")!;
        if (baseModel is not { Kind: JsonValueKind.Object })
            return BuiltIn("sdxl")!;

        string name = baseModel["name"] is { Kind: JsonValueKind.String } n ? n.AsString() : "custom";
        bool hasTransformerConfig = baseModel["transformerConfig"] is { Kind: JsonValueKind.String };
        // A transformerConfig is a FLUX transformer: the base model's architecture is flux unless it says otherwise.
        string? architecture = baseModel["architecture"] is { Kind: JsonValueKind.String } a ? a.AsString()
            : hasTransformerConfig ? LoraArchitectures.Flux : null;
        var start = architecture != null ? BuiltIn(architecture) : null;
        UnetLayout? unet = start?.Unet;
        TextEncoderLayout? te = start?.TextEncoder;
        TextEncoderLayout? te2 = start?.TextEncoder2;
        bool hasTe2 = start?.HasTextEncoder2 ?? true;
        FluxTransformerLayout? transformer = start?.Transformer;
        bool? isFlux = start?.IsFlux;
        var key = new StringBuilder("custom:" + name + "|" + (architecture ?? "-"));
        string? error = null;

        string? Read(string property)
        {
            if (baseModel[property] is not { Kind: JsonValueKind.String } path) return null;
            string full = Path.GetFullPath(Path.Combine(manifestDirectory, path.AsString()));
            try
            {
                string text = File.ReadAllText(full);
                key.Append('|').Append(property).Append(':').Append(Hash(text));
                return text;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
            {
                error ??= $"{property} '{path.AsString()}' could not be read ({e.Message})";
                return null;
            }
        }

        string? customUnetName = null;
        string? customTransformerName = null;
        try
        {
            if (Read("unetConfig") is string unetText)
            {
                if (isFlux == true || hasTransformerConfig)
                    throw new LoraSdkFormatException("a Flux base model (\"transformerConfig\" or \"architecture\": \"flux\") has no UNet; remove \"unetConfig\"");
                unet = UnetLayout.FromUnetConfigJson(unetText, name);
                customUnetName = unet.Name;
                isFlux = false;
            }
            if (Read("transformerConfig") is string transformerText)
            {
                transformer = FluxTransformerLayout.FromTransformerConfigJson(transformerText, name);
                customTransformerName = transformer.Name;
                isFlux = true;
                hasTe2 = false;
            }
            if (Read("textEncoderConfig") is string teText) te = TextEncoderLayout.FromConfigJson(teText, LoraComponents.TextEncoder);
            if (Read("textEncoder2Config") is string te2Text)
            {
                te2 = TextEncoderLayout.FromConfigJson(te2Text, LoraComponents.TextEncoder2);
                hasTe2 = true;
            }
        }
        catch (LoraSdkFormatException e)
        {
            error ??= e.Message;
        }
        var options = new LoraFileModelOptions
        {
            Unet = unet ?? UnetLayout.SdxlBase,
            TextEncoder = te ?? TextEncoderLayout.ClipL,
            TextEncoder2 = te2 ?? TextEncoderLayout.ClipG,
            Transformer = transformer ?? FluxTransformerLayout.Flux1Dev,
        };
        return new BaseModelLayouts(name, architecture, options, unet, te, te2, hasTe2, key.ToString(), error, customUnetName,
            transformer, isFlux, customTransformerName);
    }

    private static BaseModelLayouts? BuiltIn(string name) => name switch
    {
        "sdxl" => new BaseModelLayouts(name, name, LoraFileModelOptions.Default, UnetLayout.SdxlBase, TextEncoderLayout.ClipL,
            TextEncoderLayout.ClipG, true, name, null),
        "sd15" => new BaseModelLayouts(name, name, new LoraFileModelOptions { Unet = UnetLayout.Sd15, TextEncoder = TextEncoderLayout.ClipL },
            UnetLayout.Sd15, TextEncoderLayout.ClipL, null, false, name, null),
        "sd2" => new BaseModelLayouts(name, name, new LoraFileModelOptions { Unet = UnetLayout.Sd2, TextEncoder = TextEncoderLayout.OpenClipH },
            UnetLayout.Sd2, TextEncoderLayout.OpenClipH, null, false, name, null),
        // FLUX.1: the transformer and CLIP-L (diffusers' FluxLoraLoaderMixin loads no T5 LoRA).
        "flux" => new BaseModelLayouts(name, name, new LoraFileModelOptions { Transformer = FluxTransformerLayout.Flux1Dev, TextEncoder = TextEncoderLayout.ClipL },
            null, TextEncoderLayout.ClipL, null, false, name, null, transformer: FluxTransformerLayout.Flux1Dev, isFlux: true),
        _ => null,
    };

    internal static string Hash(string text)
    {
        using var sha = SHA256.Create();
        var bytes = sha.ComputeHash(Encoding.UTF8.GetBytes(text));
        var sb = new StringBuilder(bytes.Length * 2);
        foreach (var b in bytes) sb.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        return sb.ToString();
    }
}
