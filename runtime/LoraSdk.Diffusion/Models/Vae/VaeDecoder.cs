using System.Collections.Generic;
using System.Linq;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Vae;

/// <summary>diffusers' VAE <c>Decoder</c>: <c>conv_in</c>, <c>up_blocks</c>, <c>mid_block</c>, <c>conv_norm_out</c>, <c>conv_out</c>.</summary>
public sealed class VaeDecoder : DiffusersModule<Tensor, Tensor>
{
    private readonly LoraConv2d _convIn;
    private readonly List<UpDecoderBlock2D> _upBlocks = new();
    private readonly VaeMidBlock _midBlock;
    private readonly GroupNorm _convNormOut;
    private readonly LoraConv2d _convOut;

    /// <summary>Creates the decoder.</summary>
    public VaeDecoder(AutoencoderKLConfig c, ModelPlacement placement) : base(nameof(VaeDecoder))
    {
        var boc = c.BlockOutChannels;
        _convIn = Register("conv_in", new LoraConv2d(c.LatentChannels, boc[^1], 3, 1, 1, true, placement.DType, placement.Device));
        var reversed = boc.Reverse().ToArray();
        long output = reversed[0];
        for (int i = 0; i < reversed.Length; i++)
        {
            long prev = output;
            output = reversed[i];
            _upBlocks.Add(new UpDecoderBlock2D(prev, output, c.LayersPerBlock + 1, i != reversed.Length - 1, c.NormNumGroups, 1e-6, c.ActFn, placement));
        }
        Register("up_blocks", new ModuleList<UpDecoderBlock2D>(_upBlocks.ToArray()));
        _midBlock = Register("mid_block", new VaeMidBlock(boc[^1], c.NormNumGroups, 1e-6, c.ActFn, c.MidBlockAddAttention, placement));
        _convNormOut = Register("conv_norm_out", nn.GroupNorm(c.NormNumGroups, boc[0], 1e-6, true, placement.Device, placement.DType));
        _convOut = Register("conv_out", new LoraConv2d(boc[0], c.OutChannels, 3, 1, 1, true, placement.DType, placement.Device));
    }

    /// <summary>Maps (B, latent, h, w) latents to (B, 3, H, W) images in about [-1, 1].</summary>
    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        Tensor h = _convIn.call(z);
        h = _midBlock.call(h);
        foreach (var block in _upBlocks) h = block.call(h);
        h = nn.functional.silu(_convNormOut.call(h));
        return _convOut.call(h).MoveToOuterDisposeScope();
    }
}
