using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Models.Clip;
using LoraSdk.Diffusion.Models.Unet;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>
/// A fresh tiny SDXL "pipeline" for LoRA parity tests: the host's UNet and both CLIP text encoders loaded from
/// tests/fixtures/tiny-sdxl, wrapped in the engine's <see cref="LoraAdapterManager"/> exactly as a pipeline would, and
/// the UNet call diffusers used for every <c>unet/*</c> golden.
/// </summary>
internal sealed class LoraPipelineHarness : IDisposable
{
    private sealed class ScaleHook : ILoraScaleHook
    {
        private readonly LoraAdapterManager _manager;

        public ScaleHook(LoraAdapterManager manager) => _manager = manager;

        public IDisposable Scale(nn.Module component, double scale) => _manager.ApplyRuntimeScale(component, scale);
    }

    public LoraPipelineHarness(bool textEncoders = true)
    {
        Unet = ComponentLoader.LoadUNet(Path.Combine(RepoPaths.TinySdxl, "unet"));
        var components = new List<LoraComponent> { CreateUnetComponent(Unet) };
        if (textEncoders)
        {
            TextEncoder = ComponentLoader.LoadClipTextModel(Path.Combine(RepoPaths.TinySdxl, "text_encoder"));
            TextEncoder2 = ComponentLoader.LoadClipTextModelWithProjection(Path.Combine(RepoPaths.TinySdxl, "text_encoder_2"));
            components.Add(new LoraComponent(LoraComponents.TextEncoder, TextEncoder, new LoraComponentOptions { Kind = LoraComponentKind.TextEncoder }));
            components.Add(new LoraComponent(LoraComponents.TextEncoder2, TextEncoder2, new LoraComponentOptions
            {
                Kind = LoraComponentKind.TextEncoder,
                SavedModulePathMap = path => "text_model." + path, // transformers 5 keeps text_model. in CLIPTextModelWithProjection
            }));
        }
        Manager = new LoraAdapterManager(components, LoadOptions);
        Unet.LoraScaleHook = new ScaleHook(Manager);
    }

    /// <summary>Load options with the tiny UNet's layout (needed for kohya / SGM key names).</summary>
    public static LoraLoadOptions LoadOptions { get; } = new LoraLoadOptions
    {
        FileModelOptions = LoraFileModelOptions.ForUnetConfigJson(File.ReadAllText(Path.Combine(RepoPaths.TinySdxl, "unet", "config.json")), "tiny-sdxl"),
    };

    public static LoraComponent CreateUnetComponent(UNet2DConditionModel unet)
    {
        var names = unet.named_modules().Select(m => m.name).ToList();
        var layout = UNetBlockLayout.FromModuleNames(names, unet.Config.LayersPerBlock[0]);
        return new LoraComponent(LoraComponents.Unet, unet, new LoraComponentOptions { Kind = LoraComponentKind.Denoiser, BlockLayout = layout });
    }

    public UNet2DConditionModel Unet { get; }

    public ClipTextModel? TextEncoder { get; }

    public ClipTextModelWithProjection? TextEncoder2 { get; }

    public LoraAdapterManager Manager { get; }

    public LoraComponent UnetComponent => Manager[LoraComponents.Unet];

    public static string LoraPath(string tag) => Path.Combine(RepoPaths.Loras, tag + ".safetensors");

    /// <summary><c>p.load_lora_weights(loras, weight_name=tag + ".safetensors", adapter_name=name)</c>.</summary>
    public string Load(string tag, string? name, bool hotswap = false) => Manager.LoadLoraWeights(LoraPath(tag), name, hotswap);

    /// <summary>diffusers' golden UNet call (optionally with <c>cross_attention_kwargs={"scale": s}</c>).</summary>
    public static Tensor RunUnet(UNet2DConditionModel unet, double? scale = null)
    {
        var g = GoldenSet.Reference;
        using var noGrad = no_grad();
        using var sample = g.Tensor("inputs/sample");
        using var timestep = g.Tensor("inputs/timestep");
        using var context = g.Tensor("inputs/encoder_hidden_states");
        using var textEmbeds = g.Tensor("inputs/text_embeds");
        using var timeIds = g.Tensor("inputs/time_ids");
        return unet.Forward(sample, timestep, context, textEmbeds, timeIds, scale);
    }

    public Tensor RunUnet(double? scale = null) => RunUnet(Unet, scale);

    /// <summary>Runs the UNet and asserts ≤ <paramref name="tolerance"/> relative to golden <paramref name="key"/>; returns the comparison.</summary>
    public TensorAssert.Comparison AssertUnet(string key, double? scale = null, double tolerance = TensorAssert.DefaultRelativeTolerance)
    {
        using var actual = RunUnet(scale);
        using var expected = GoldenSet.Reference.Tensor(key);
        return TensorAssert.Close(actual, expected, key, tolerance);
    }

    /// <summary>A bitwise fingerprint of every parameter of every component (for "changed nothing" assertions).</summary>
    public IReadOnlyDictionary<string, byte[]> Checksums() => ParameterChecksums.Of(Manager);

    public void Dispose()
    {
        Manager.UnloadLoraWeights();
        Unet.Dispose();
        TextEncoder?.Dispose();
        TextEncoder2?.Dispose();
    }
}
