using System;
using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>
/// The LoRA-able layers of a diffusers <c>UNet2DConditionModel</c>, enumerated from its <c>config.json</c>:
/// resnet convs and time projections, transformer attention / feed-forward / projection linears, down/up samplers,
/// <c>conv_in</c>/<c>conv_out</c> and the time / added-condition embeddings — each with its diffusers path, its
/// SGM/LDM name (<c>input_blocks.4.1.…</c>), kind and shape. Used to map kohya and SGM key names exactly and to
/// check an adapter against a base model.
/// </summary>
public sealed class UnetLayout
{
    private readonly Dictionary<string, BaseModuleInfo> _byPath;
    private readonly Dictionary<string, BaseModuleInfo> _bySgmPath;

    internal UnetLayout(string name, IReadOnlyList<BaseModuleInfo> modules, IReadOnlyList<int> layersPerBlock,
        IReadOnlyList<int> crossAttentionDims)
    {
        Name = name;
        Modules = modules;
        LayersPerBlock = layersPerBlock;
        CrossAttentionDims = crossAttentionDims;
        _byPath = new Dictionary<string, BaseModuleInfo>(StringComparer.Ordinal);
        _bySgmPath = new Dictionary<string, BaseModuleInfo>(StringComparer.Ordinal);
        foreach (var m in modules)
        {
            _byPath[m.Path] = m;
            if (m.SgmPath != null) _bySgmPath[m.SgmPath] = m;
        }
    }

    /// <summary>
    /// A short name: <c>"sdxl"</c>, <c>"sd15"</c>, <c>"sd2"</c> for the built-in layouts, or the name given to
    /// <see cref="FromUnetConfigJson"/>. <see cref="LoraFileModel.ImpliedArchitecture"/> reports it when an adapter's
    /// shapes fit this layout.
    /// </summary>
    public string Name { get; }

    /// <summary>Every LoRA-able layer, in model order.</summary>
    public IReadOnlyList<BaseModuleInfo> Modules { get; }

    /// <summary>Resnet layers per down block (up blocks have one more each). SGM block indices depend on it.</summary>
    public IReadOnlyList<int> LayersPerBlock { get; }

    /// <summary>Cross-attention (text-embedding) width per down block.</summary>
    public IReadOnlyList<int> CrossAttentionDims { get; }

    /// <summary>Looks a layer up by its diffusers path.</summary>
    public bool TryGetModule(string path, out BaseModuleInfo module) => _byPath.TryGetValue(path, out module!);

    /// <summary>Looks a layer up by its SGM/LDM path (dotted, e.g. <c>input_blocks.4.1.proj_in</c>).</summary>
    public bool TryGetModuleBySgmPath(string sgmPath, out BaseModuleInfo module) => _bySgmPath.TryGetValue(sgmPath, out module!);

    /// <summary>The SDXL 1.0 base UNet (<c>stabilityai/stable-diffusion-xl-base-1.0</c>, <c>unet/config.json</c>).</summary>
    public static UnetLayout SdxlBase { get; } = FromUnetConfigJson(BuiltInUnetConfigs.SdxlBase, "sdxl");

    /// <summary>The Stable Diffusion 1.5 UNet (<c>stable-diffusion-v1-5</c>, <c>unet/config.json</c>).</summary>
    public static UnetLayout Sd15 { get; } = FromUnetConfigJson(BuiltInUnetConfigs.Sd15, "sd15");

    /// <summary>The Stable Diffusion 2.1 UNet (<c>stable-diffusion-2-1</c>, <c>unet/config.json</c>).</summary>
    public static UnetLayout Sd2 { get; } = FromUnetConfigJson(BuiltInUnetConfigs.Sd21, "sd2");

    /// <summary>The built-in layouts, in the order architecture inference tries them.</summary>
    public static IReadOnlyList<UnetLayout> BuiltIn { get; } = new[] { SdxlBase, Sd15, Sd2 };

    /// <summary>Enumerates the layout of a diffusers <c>UNet2DConditionModel</c> from its <c>config.json</c> text.</summary>
    /// <param name="configJson">The config text.</param>
    /// <param name="name">The layout's <see cref="Name"/>.</param>
    /// <exception cref="LoraSdkFormatException">The text is not JSON or lacks required fields.</exception>
    public static UnetLayout FromUnetConfigJson(string configJson, string name = "custom")
    {
        if (configJson == null) throw new ArgumentNullException(nameof(configJson));
        if (name == null) throw new ArgumentNullException(nameof(name));
        JsonValue root;
        try
        {
            root = JsonValue.Parse(configJson);
        }
        catch (JsonParseException e)
        {
            throw new LoraSdkFormatException("UNet config.json: " + e.Message, e);
        }
        return UnetLayoutBuilder.Build(root, name);
    }
}
