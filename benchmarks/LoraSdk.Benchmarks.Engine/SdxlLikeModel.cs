using System.Collections.Generic;
using System.Globalization;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Benchmarks.Engine;

/// <summary>
/// A module tree with SDXL's attention-projection count and diffusers names (<c>down_blocks.1.attentions.0.
/// transformer_blocks.k.attn{1,2}.to_{q,k,v,out.0}</c>), so PEFT-keyed files map onto it like onto a UNet.
/// Width is configurable to keep memory modest (the number of layers is what set_adapters / load scale with).
/// </summary>
internal sealed class SdxlLikeModel : nn.Module
{
    private sealed class Attn : nn.Module
    {
        public Attn(long dim, ScalarType dtype) : base("attn")
        {
            to_q = new LoraLinear(dim, dim, false, dtype);
            to_k = new LoraLinear(dim, dim, false, dtype);
            to_v = new LoraLinear(dim, dim, false, dtype);
            to_out = new ModuleList<LoraLinear>(new LoraLinear(dim, dim, true, dtype));
            RegisterComponents();
        }

#pragma warning disable IDE1006
        public readonly LoraLinear to_q, to_k, to_v;
        public readonly ModuleList<LoraLinear> to_out;
#pragma warning restore IDE1006
    }

    private sealed class Block : nn.Module
    {
        public Block(long dim, ScalarType dtype) : base("block")
        {
            attn1 = new Attn(dim, dtype);
            attn2 = new Attn(dim, dtype);
            RegisterComponents();
        }

#pragma warning disable IDE1006
        public readonly Attn attn1, attn2;
#pragma warning restore IDE1006
    }

    private sealed class Transformer : nn.Module
    {
        public Transformer(int blocks, long dim, ScalarType dtype) : base("transformer")
        {
            var list = new Block[blocks];
            for (int i = 0; i < blocks; i++) list[i] = new Block(dim, dtype);
            transformer_blocks = new ModuleList<Block>(list);
            RegisterComponents();
        }

#pragma warning disable IDE1006
        public readonly ModuleList<Block> transformer_blocks;
#pragma warning restore IDE1006
    }

    private sealed class DownBlock : nn.Module
    {
        public DownBlock(int blocks, long dim, ScalarType dtype) : base("down")
        {
            attentions = new ModuleList<Transformer>(new Transformer(blocks, dim, dtype));
            RegisterComponents();
        }

#pragma warning disable IDE1006
        public readonly ModuleList<Transformer> attentions;
#pragma warning restore IDE1006
    }

#pragma warning disable IDE1006
    private readonly ModuleList<DownBlock> down_blocks;
#pragma warning restore IDE1006

    /// <summary>88 transformer blocks × 8 projections = 704 LoRA-able layers (SDXL's UNet has 700 attention projections).</summary>
    public SdxlLikeModel(long dim, ScalarType dtype, int blocks = 88) : base("sdxl_like")
    {
        down_blocks = new ModuleList<DownBlock>(new DownBlock(1, dim, dtype), new DownBlock(blocks, dim, dtype));
        RegisterComponents();
        using var noGrad = no_grad();
        foreach (var (_, p) in named_parameters()) nn.init.normal_(p, 0, 0.02);
        Dim = dim;
        Paths = new List<string>();
        for (int b = 0; b < blocks; b++)
            foreach (var attn in new[] { "attn1", "attn2" })
                foreach (var proj in new[] { "to_q", "to_k", "to_v", "to_out.0" })
                    Paths.Add(string.Format(CultureInfo.InvariantCulture, "down_blocks.1.attentions.0.transformer_blocks.{0}.{1}.{2}", b, attn, proj));
    }

    public long Dim { get; }

    /// <summary>Module paths of the LoRA-able projections (of the large down block).</summary>
    public List<string> Paths { get; }
}
