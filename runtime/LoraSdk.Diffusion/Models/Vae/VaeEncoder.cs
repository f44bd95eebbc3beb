using System.Collections.Generic;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Vae;

/// <summary>diffusers' VAE <c>Encoder</c> (double_z): <c>conv_in</c>, <c>down_blocks</c>, <c>mid_block</c>, <c>conv_norm_out</c>, <c>conv_out</c>.</summary>
public sealed class VaeEncoder : DiffusersModule<Tensor, Tensor>
{
    private readonly LoraConv2d _convIn;
    private readonly List<DownEncoderBlock2D> _downBlocks = new();
    private readonly VaeMidBlock _midBlock;
    private readonly GroupNorm _convNormOut;
    private readonly LoraConv2d _convOut;

    /// <summary>Creates the encoder.</summary>
    public VaeEncoder(AutoencoderKLConfig c, ModelPlacement placement) : base(nameof(VaeEncoder))
    {
        var boc = c.BlockOutChannels;
        _convIn = Register("conv_in", new LoraConv2d(c.InChannels, boc[0], 3, 1, 1, true, placement.DType, placement.Device));
        long output = boc[0];
        for (int i = 0; i < boc.Count; i++)
        {
            long input = output;
            output = boc[i];
            _downBlocks.Add(new DownEncoderBlock2D(input, output, c.LayersPerBlock, i != boc.Count - 1, c.NormNumGroups, 1e-6, c.ActFn, placement));
        }
        Register("down_blocks", new ModuleList<DownEncoderBlock2D>(_downBlocks.ToArray()));
        _midBlock = Register("mid_block", new VaeMidBlock(boc[^1], c.NormNumGroups, 1e-6, c.ActFn, c.MidBlockAddAttention, placement));
        _convNormOut = Register("conv_norm_out", nn.GroupNorm(c.NormNumGroups, boc[^1], 1e-6, true, placement.Device, placement.DType));
        _convOut = Register("conv_out", new LoraConv2d(boc[^1], 2 * c.LatentChannels, 3, 1, 1, true, placement.DType, placement.Device));
    }

    /// <summary>Maps (B, 3, H, W) images in [-1, 1] to (B, 2·latent, H/f, W/f) moments.</summary>
    public override Tensor forward(Tensor sample)
    {
        using var scope = NewDisposeScope();
        Tensor h = _convIn.call(sample);
        foreach (var block in _downBlocks) h = block.call(h);
        h = _midBlock.call(h);
        h = nn.functional.silu(_convNormOut.call(h));
        return _convOut.call(h).MoveToOuterDisposeScope();
    }
}
