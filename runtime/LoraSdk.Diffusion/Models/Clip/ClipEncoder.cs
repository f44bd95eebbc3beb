using System.Collections.Generic;
using LoraSdk.Diffusion.Models.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Clip;

/// <summary>transformers' <c>CLIPEncoder</c>: <c>layers.N</c>.</summary>
public sealed class ClipEncoder : DiffusersModule
{
    private readonly List<ClipEncoderLayer> _layers = new();

    /// <summary>Creates the encoder.</summary>
    public ClipEncoder(Configuration.ClipTextConfig config, ModelPlacement placement) : base(nameof(ClipEncoder))
    {
        for (int i = 0; i < config.NumHiddenLayers; i++) _layers.Add(new ClipEncoderLayer(config, placement));
        Register("layers", new ModuleList<ClipEncoderLayer>(_layers.ToArray()));
    }

    /// <summary>Runs every layer; returns the input followed by each layer's output (caller's dispose scope).</summary>
    public IReadOnlyList<Tensor> Forward(Tensor inputsEmbeds)
    {
        var states = new List<Tensor> { inputsEmbeds };
        Tensor h = inputsEmbeds;
        foreach (var layer in _layers)
        {
            h = layer.call(h);
            states.Add(h);
        }
        return states;
    }
}
