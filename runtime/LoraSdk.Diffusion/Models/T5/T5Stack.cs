using System.Collections.Generic;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.T5;

/// <summary>transformers' encoder <c>T5Stack</c> without its (shared) embedding: <c>block.N</c>, <c>final_layer_norm</c>.</summary>
public sealed class T5Stack : DiffusersModule
{
    private readonly List<T5Block> _blocks = new();
    private readonly T5LayerNorm _finalLayerNorm;

    /// <summary>Creates the stack.</summary>
    public T5Stack(T5Config config, ModelPlacement placement) : base(nameof(T5Stack))
    {
        for (int i = 0; i < config.NumLayers; i++) _blocks.Add(new T5Block(config, i == 0, placement));
        Register("block", new ModuleList<T5Block>(_blocks.ToArray()));
        _finalLayerNorm = Register("final_layer_norm", new T5LayerNorm(config.DModel, config.LayerNormEpsilon, placement));
    }

    /// <summary>Runs every block on the (B, L, D) embeddings and applies the final norm.</summary>
    public Tensor Forward(Tensor inputsEmbeds)
    {
        using var scope = NewDisposeScope();
        Tensor h = inputsEmbeds;
        Tensor? bias = null;
        foreach (var block in _blocks) (h, bias) = block.Forward(h, bias);
        return _finalLayerNorm.call(h).MoveToOuterDisposeScope();
    }
}
