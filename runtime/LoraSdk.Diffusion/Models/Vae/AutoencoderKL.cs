using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Vae;

/// <summary>diffusers' <c>AutoencoderKL</c>: <c>encoder</c>, <c>decoder</c>, <c>quant_conv</c>, <c>post_quant_conv</c>.</summary>
public sealed class AutoencoderKL : DiffusersModule
{
    private readonly VaeEncoder _encoder;
    private readonly VaeDecoder _decoder;
    private readonly LoraConv2d? _quantConv;
    private readonly LoraConv2d? _postQuantConv;

    /// <summary>Builds the model; load weights next.</summary>
    public AutoencoderKL(AutoencoderKLConfig config, ModelPlacement placement) : base(nameof(AutoencoderKL))
    {
        Config = config;
        Placement = placement;
        _encoder = Register("encoder", new VaeEncoder(config, placement));
        _decoder = Register("decoder", new VaeDecoder(config, placement));
        long l = config.LatentChannels;
        if (config.UseQuantConv)
            _quantConv = Register("quant_conv", new LoraConv2d(2 * l, 2 * l, 1, 1, 0, true, placement.DType, placement.Device));
        if (config.UsePostQuantConv)
            _postQuantConv = Register("post_quant_conv", new LoraConv2d(l, l, 1, 1, 0, true, placement.DType, placement.Device));
    }

    /// <summary>The configuration.</summary>
    public AutoencoderKLConfig Config { get; }

    /// <summary>The dtype and device the parameters were created with.</summary>
    public ModelPlacement Placement { get; }

    /// <summary>Down-sampling factor between image and latent (<c>2^(len(block_out_channels)-1)</c>).</summary>
    public int ScaleFactor => 1 << (Config.BlockOutChannels.Count - 1);

    /// <summary>Encodes (B, 3, H, W) images in [-1, 1] to the latent distribution (unscaled).</summary>
    public DiagonalGaussianDistribution Encode(Tensor images)
    {
        Tensor moments;
        using (var scope = NewDisposeScope())
        {
            Tensor m = _encoder.call(images.to(Placement.DType));
            if (_quantConv is not null) m = _quantConv.call(m);
            moments = m.MoveToOuterDisposeScope();
        }
        using (moments)
            return new DiagonalGaussianDistribution(moments);
    }

    /// <summary>Decodes (B, latent, h, w) unscaled latents to (B, 3, H, W) images in about [-1, 1].</summary>
    public Tensor Decode(Tensor latents)
    {
        using var scope = NewDisposeScope();
        Tensor z = latents.to(Placement.DType);
        if (_postQuantConv is not null) z = _postQuantConv.call(z);
        return _decoder.call(z).MoveToOuterDisposeScope();
    }
}
