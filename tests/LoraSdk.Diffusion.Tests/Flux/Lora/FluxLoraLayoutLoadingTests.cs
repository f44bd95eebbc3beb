using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Layers;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Flux.Lora;

/// <summary>
/// The Flux layouts without a diffusers-written fixture (XLabs, BFL names, ComfyUI's <c>diffusion_model.</c> kohya
/// spelling, kohya's block-diagonal fused layers) loaded into the tiny pipeline from synthetic files: each module's
/// lora_A / lora_B must be exactly the tensors diffusers' <c>lora_conversion_utils.py</c> (commit 58eb52c) produces —
/// the row range of a fused lora_B, lora_A shared (or chunked by rank when lora_up is block-diagonal), the folded alpha
/// scale, the swapped (shift, scale) halves — and scaling 1.
/// </summary>
public sealed class FluxLoraLayoutLoadingTests
{
    private static Tensor Randn(long seed, params long[] shape)
    {
        using var g = new TorchSharp.torch.Generator((ulong)seed);
        return randn(shape, generator: g);
    }

    private static string Write(TempFolder temp, string name, params (string Key, Tensor Value)[] tensors)
    {
        string path = Path.Combine(temp.Path, name);
        SafetensorsWriter.Save(path, tensors.Select(t => new KeyValuePair<string, Tensor>(t.Key, t.Value)).ToList());
        return path;
    }

    private static void AssertModule(FluxLoraHarness p, string adapter, string path, Tensor expectedA, Tensor expectedB)
    {
        var w = (LowRankWeights)p.Transformer.GetLayer(path)!.GetAdapter(adapter);
        TensorAssert.Equal(w.A, expectedA, path + " lora_A");
        TensorAssert.Equal(w.B, expectedB, path + " lora_B");
        Assert.Equal(1.0, w.Scaling);
        Assert.Equal((int)expectedA.shape[0], w.ConfiguredRank);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void KohyaFusedQkvWithBlockDiagonalUpIsChunkedByRank(bool blockDiagonal)
    {
        using var temp = new TempFolder();
        using var scope = NewDisposeScope();
        var down = Randn(1, 3, 32);
        var up = zeros(96, 3);
        for (int j = 0; j < 3; j++) up.narrow(0, 32 * j, 32).narrow(1, j, 1).copy_(Randn(10 + j, 32, 1));
        if (!blockDiagonal) up[5, 2] = tensor(0.25f);
        string file = Write(temp, "kohya.safetensors",
            ("lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight", down),
            ("lora_unet_double_blocks_0_img_attn_qkv.lora_up.weight", up),
            ("lora_unet_double_blocks_0_img_attn_qkv.alpha", tensor(1.5f)));
        using var p = new FluxLoraHarness();
        p.Pipe.LoadLoraWeights(file, "k");
        // alpha 1.5 / rank 3 = 0.5: 0.5 · 2 < 1 is false, so lora_A × 0.5 and lora_B × 1.
        var scaledDown = down * 0.5f;
        string[] paths = { "transformer_blocks.0.attn.to_q", "transformer_blocks.0.attn.to_k", "transformer_blocks.0.attn.to_v" };
        for (int j = 0; j < 3; j++)
        {
            if (blockDiagonal) AssertModule(p, "k", paths[j], scaledDown.narrow(0, j, 1), up.narrow(0, 32 * j, 32).narrow(1, j, 1));
            else AssertModule(p, "k", paths[j], scaledDown, up.narrow(0, 32 * j, 32));
        }
    }

    [Fact]
    public void XLabsProcessorsLoadAsSplitQkvAndProjections()
    {
        using var temp = new TempFolder();
        using var scope = NewDisposeScope();
        var qkvDown = Randn(2, 4, 32);
        var qkvUp = Randn(3, 96, 4);
        var projDown = Randn(4, 4, 32);
        var projUp = Randn(5, 32, 4);
        string file = Write(temp, "xlabs.safetensors",
            ("double_blocks.1.processor.qkv_lora2.down.weight", qkvDown),
            ("double_blocks.1.processor.qkv_lora2.up.weight", qkvUp),
            ("double_blocks.1.processor.proj_lora1.down.weight", projDown),
            ("double_blocks.1.processor.proj_lora1.up.weight", projUp));
        using var p = new FluxLoraHarness();
        p.Pipe.LoadLoraWeights(file, "x");
        string[] paths = { "transformer_blocks.1.attn.add_q_proj", "transformer_blocks.1.attn.add_k_proj", "transformer_blocks.1.attn.add_v_proj" };
        for (int j = 0; j < 3; j++) AssertModule(p, "x", paths[j], qkvDown, qkvUp.narrow(0, 32 * j, 32));
        AssertModule(p, "x", "transformer_blocks.1.attn.to_out.0", projDown, projUp);
        Assert.Equal(4, p.Transformer.GetAdapterModulePaths("x").Count);
    }

    [Fact]
    public void BflFinalLayerSwapsTheModulationHalvesAndRootLayersLoad()
    {
        using var temp = new TempFolder();
        using var scope = NewDisposeScope();
        var adaDown = Randn(6, 4, 32);
        var adaUp = Randn(7, 64, 4);
        var imgDown = Randn(8, 4, 16);
        var imgUp = Randn(9, 32, 4);
        string file = Write(temp, "bfl.safetensors",
            ("final_layer.adaLN_modulation.1.lora_A.weight", adaDown),
            ("final_layer.adaLN_modulation.1.lora_B.weight", adaUp),
            ("img_in.lora_A.weight", imgDown),
            ("img_in.lora_B.weight", imgUp));
        using var p = new FluxLoraHarness();
        var result = p.Manager.LoadLoraWeightsWithResult(file, "b");
        Assert.Empty(result.UnmappedKeys);
        AssertModule(p, "b", "norm_out.linear", adaDown, cat(new[] { adaUp.narrow(0, 32, 32), adaUp.narrow(0, 0, 32) }, 0));
        AssertModule(p, "b", "x_embedder", imgDown, imgUp);
    }

    [Fact]
    public void ComfyUiKohyaSpellingLoadsWithFoldedAlpha()
    {
        using var temp = new TempFolder();
        using var scope = NewDisposeScope();
        var down = Randn(11, 8, 160);
        var up = Randn(12, 32, 8);
        string file = Write(temp, "comfy.safetensors",
            ("diffusion_model.single_blocks.1.linear2.lora_down.weight", down),
            ("diffusion_model.single_blocks.1.linear2.lora_up.weight", up),
            ("diffusion_model.single_blocks.1.linear2.alpha", tensor(1f)),
            ("text_encoders.t5xxl.transformer.encoder.block.0.layer.0.SelfAttention.q.lora_down.weight", Randn(13, 8, 32)),
            ("text_encoders.t5xxl.transformer.encoder.block.0.layer.0.SelfAttention.q.lora_up.weight", Randn(14, 32, 8)));
        using var p = new FluxLoraHarness();
        var result = p.Manager.LoadLoraWeightsWithResult(file, "c");
        Assert.Contains(result.Warnings, w => w.Contains("t5xxl", StringComparison.Ordinal));
        // alpha 1 / rank 8 = 0.125 → scale_down 0.25, scale_up 0.5 (0.25 · 2 < 0.5 is false).
        AssertModule(p, "c", "single_transformer_blocks.1.proj_out", down * 0.25f, up * 0.5f);
    }
}
