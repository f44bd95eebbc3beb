using System.Collections.Generic;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>
/// A small module tree named like a UNet (so the formats core maps PEFT keys to it): <c>mid_block.attentions.0.proj_in</c>
/// (Linear 8→16), <c>mid_block.attentions.0.proj_out</c> (Linear 16→8, no bias), <c>mid_block.resnets.0.conv1</c>
/// (Conv2d 4→6, 3×3, padding 1), with seeded random weights.
/// </summary>
internal sealed class TinyModel : nn.Module
{
    private sealed class Attention : nn.Module
    {
        public Attention(ScalarType dtype) : base("attn")
        {
            proj_in = new LoraLinear(8, 16, true, dtype);
            proj_out = new LoraLinear(16, 8, false, dtype);
            RegisterComponents();
        }

#pragma warning disable IDE1006
        public readonly LoraLinear proj_in;
        public readonly LoraLinear proj_out;
#pragma warning restore IDE1006
    }

    private sealed class Resnet : nn.Module
    {
        public Resnet(ScalarType dtype) : base("resnet")
        {
            conv1 = new LoraConv2d(4, 6, 3, 1, 1, true, dtype);
            RegisterComponents();
        }

#pragma warning disable IDE1006
        public readonly LoraConv2d conv1;
#pragma warning restore IDE1006
    }

    private sealed class MidBlock : nn.Module
    {
        public MidBlock(ScalarType dtype) : base("mid")
        {
            attentions = new ModuleList<Attention>(new Attention(dtype));
            resnets = new ModuleList<Resnet>(new Resnet(dtype));
            RegisterComponents();
        }

#pragma warning disable IDE1006
        public readonly ModuleList<Attention> attentions;
        public readonly ModuleList<Resnet> resnets;
#pragma warning restore IDE1006
    }

#pragma warning disable IDE1006
    private readonly MidBlock mid_block;
#pragma warning restore IDE1006

    public const string ProjIn = "mid_block.attentions.0.proj_in";
    public const string ProjOut = "mid_block.attentions.0.proj_out";
    public const string Conv1 = "mid_block.resnets.0.conv1";

    public TinyModel(ScalarType dtype = ScalarType.Float32, long seed = 7) : base("tiny")
    {
        mid_block = new MidBlock(dtype);
        RegisterComponents();
        using var g = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var (_, p) in named_parameters())
        {
            using var r = randn(p.shape, ScalarType.Float32, generator: g).mul_(0.2);
            p.copy_(r);
        }
    }

    public LoraLinear ProjInLayer => mid_block.attentions[0].proj_in;

    public LoraLinear ProjOutLayer => mid_block.attentions[0].proj_out;

    public LoraConv2d Conv1Layer => mid_block.resnets[0].conv1;

    /// <summary>Runs the three layers: x (N, 8) → proj_in → proj_out, and image (N, 4, 5, 5) → conv1.</summary>
    public (Tensor Linear, Tensor Conv) Run(Tensor x, Tensor image)
    {
        using var h = ProjInLayer.forward(x);
        return (ProjOutLayer.forward(h), Conv1Layer.forward(image));
    }

    public static IEnumerable<(string Path, long[] Down, long[] Up)> Shapes(int rank) => new[]
    {
        (ProjIn, new long[] { rank, 8 }, new long[] { 16, rank }),
        (ProjOut, new long[] { rank, 16 }, new long[] { 8, rank }),
        (Conv1, new long[] { rank, 4, 3, 3 }, new long[] { 6, rank, 1, 1 }),
    };
}
