using System;
using System.Collections.Generic;
using System.IO;
using LoraSdk.Adapters;
using LoraSdk.Core;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Lora;
using LoraSdk.Diffusion.Tests.Support;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Flux.Lora;

/// <summary>
/// A fresh tiny FluxPipeline (tests/fixtures-flux/tiny-flux, float32) whose LoRA API is the one under test
/// (<c>pipe.LoadLoraWeights</c>, <c>pipe.Lora</c>), and diffusers' golden transformer call (README 3.1):
/// <c>p.transformer(inputs/…, joint_attention_kwargs={"scale": s})</c>.
/// </summary>
internal sealed class FluxLoraHarness : IDisposable
{
    public FluxLoraHarness() => Pipe = FluxPipeline.FromPretrained(RepoPaths.TinyFlux);

    public FluxPipeline Pipe { get; }

    public LoraAdapterManager Manager => Pipe.Lora;

    public LoraComponent Transformer => Manager[LoraComponents.Transformer];

    public static string LorasFolder => Path.Combine(RepoPaths.FixturesFlux, "loras");

    public static string LoraPath(string tag) => Path.Combine(LorasFolder, tag + ".safetensors");

    /// <summary><c>p.load_lora_weights("loras", weight_name=tag + ".safetensors", adapter_name=name, hotswap=…)</c>.</summary>
    public string Load(string tag, string? name, bool hotswap = false) =>
        Pipe.LoadLoraWeights(LorasFolder, name, hotswap, weightName: tag + ".safetensors");

    /// <summary>diffusers' golden transformer call.</summary>
    public Tensor Run(bool rect = false, double? scale = null)
    {
        var g = GoldenSet.Flux;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor output = Pipe.Transformer.Forward(g.Tensor(rect ? "inputs/rect_hidden_states" : "inputs/hidden_states"),
            g.Tensor("inputs/encoder_hidden_states"), g.Tensor("inputs/pooled_projections"), g.Tensor("inputs/timestep"),
            g.Tensor(rect ? "inputs/rect_img_ids" : "inputs/img_ids"), g.Tensor("inputs/txt_ids"), g.Tensor("inputs/guidance"), scale);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>Runs the transformer and asserts ≤ <paramref name="tolerance"/> relative to golden <paramref name="key"/>.</summary>
    public TensorAssert.Comparison Assert(string key, bool rect = false, double? scale = null, double tolerance = TensorAssert.DefaultRelativeTolerance)
    {
        using var actual = Run(rect, scale);
        using var expected = GoldenSet.Flux.Tensor(key);
        return TensorAssert.Close(actual, expected, key, tolerance);
    }

    /// <summary>A bitwise fingerprint of every parameter and LoRA tensor (for "changed nothing" assertions).</summary>
    public IReadOnlyDictionary<string, byte[]> Checksums() => ParameterChecksums.Of(Manager);

    public void Dispose()
    {
        if (Pipe.HasLora) Manager.UnloadLoraWeights();
        Pipe.Dispose();
    }
}
