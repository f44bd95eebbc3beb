using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Diffusion.Models.Flux;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// The Flux GPU workload of issue 13 (side by side with benchmarks/gpu/diffusers_flux_bench.py): a FLUX.1-dev-sized
/// <see cref="FluxTransformer2DModel"/> (19 double-stream and 38 single-stream blocks, 24 heads × 128 = 3072 wide,
/// in_channels 64, joint_attention_dim 4096, pooled 768, guidance embedding, RoPE axes 16/56/56) with random weights,
/// batch 1, a 1024×1024 image (4096 packed image tokens) and 512 text tokens; one transformer forward per step.
/// Parameters are created and initialised directly on the device in the bench dtype, one parameter at a time (no
/// float32 or host copy of the ~11.9 B parameters). Adapters: random rank-r LoRA factors on <see cref="Targets"/>.
/// </summary>
internal sealed class FluxWorkload : IDisposable
{
    /// <summary>
    /// The adapted projections — the same set diffusers_flux_bench.py gives PEFT: in every double-stream block
    /// <c>transformer_blocks.N.attn.{to_q,to_k,to_v,to_out.0,add_q_proj,add_k_proj,add_v_proj,to_add_out}</c>, in
    /// every single-stream block <c>single_transformer_blocks.N.attn.{to_q,to_k,to_v}</c> (19·8 + 38·3 = 266 layers
    /// in FLUX.1-dev).
    /// </summary>
    public static readonly string[] DoubleBlockTargets = { "to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "add_k_proj", "add_v_proj", "to_add_out" };

    /// <summary>The adapted projections of a single-stream block's attention (it has no output projection).</summary>
    public static readonly string[] SingleBlockTargets = { "to_q", "to_k", "to_v" };

    private readonly List<string> _adapters = new();

    public FluxWorkload(Device device, ScalarType dtype, FluxTransformer2DConfig config, int height, int width, int textTokens)
    {
        Device = device;
        DType = dtype;
        Model = new FluxTransformer2DModel(config, new ModelPlacement(dtype, device));
        RandomWeights.Fill(Model);
        Model.eval();
        ParameterCount = Model.parameters().Sum(p => p.numel());

        // Packed latents: the VAE's 8× downscale, then 2×2 patches → (H/16)·(W/16) tokens of 4·16 = 64 channels.
        long latentH = 2 * (height / 16), latentW = 2 * (width / 16);
        ImageTokens = (latentH / 2) * (latentW / 2);
        TextTokens = textTokens;
        using (no_grad())
        {
            manual_seed(7);
            HiddenStates = randn(new long[] { 1, ImageTokens, config.InChannels }, dtype, device);
            EncoderHiddenStates = randn(new long[] { 1, textTokens, config.JointAttentionDim }, dtype, device);
            PooledProjections = randn(new long[] { 1, config.PooledProjectionDim }, dtype, device);
            // As FluxPipeline passes them: t/1000 in the latents' dtype, guidance float32, ids in the prompt's dtype.
            Timestep = full(new long[] { 1 }, 0.5, dtype, device);
            Guidance = full(new long[] { 1 }, 3.5, ScalarType.Float32, device);
            ImageIds = FluxPipeline.PrepareLatentImageIds(latentH / 2, latentW / 2, device, dtype);
            TextIds = zeros(new long[] { textTokens, 3 }, dtype, device);
        }
        Layers = Model.named_modules()
            .Where(m => m.module is LoraLinear && IsTarget(m.name))
            .Select(m => (m.name, (LoraLinear)m.module)).ToList();
        Component = new LoraComponent("transformer", Model);
    }

    public Device Device { get; }

    public ScalarType DType { get; }

    public FluxTransformer2DModel Model { get; }

    public LoraComponent Component { get; }

    public long ParameterCount { get; }

    public long ImageTokens { get; }

    public long TextTokens { get; }

    public IReadOnlyList<(string Name, LoraLinear Layer)> Layers { get; }

    public Tensor HiddenStates { get; }

    public Tensor EncoderHiddenStates { get; }

    public Tensor PooledProjections { get; }

    public Tensor Timestep { get; }

    public Tensor Guidance { get; }

    public Tensor ImageIds { get; }

    public Tensor TextIds { get; }

    /// <summary>hidden_states, encoder_hidden_states, pooled_projections, timestep, img_ids, txt_ids, guidance: the static inputs of a graph.</summary>
    public Tensor[] Inputs => new[] { HiddenStates, EncoderHiddenStates, PooledProjections, Timestep, ImageIds, TextIds, Guidance };

    /// <summary>The FLUX.1-dev transformer layout (diffusers' <c>transformer/config.json</c> of black-forest-labs/FLUX.1-dev).</summary>
    public static FluxTransformer2DConfig Flux1Dev() => new()
    {
        PatchSize = 1, InChannels = 64, OutChannels = 64, NumLayers = 19, NumSingleLayers = 38, AttentionHeadDim = 128,
        NumAttentionHeads = 24, JointAttentionDim = 4096, PooledProjectionDim = 768, GuidanceEmbeds = true, AxesDimsRope = new[] { 16, 56, 56 },
    };

    /// <summary>A tiny layout with the same structure (2 + 2 blocks, 2 heads × 32) for a CPU smoke run.</summary>
    public static FluxTransformer2DConfig Tiny() => new()
    {
        PatchSize = 1, InChannels = 64, OutChannels = 64, NumLayers = 2, NumSingleLayers = 2, AttentionHeadDim = 32,
        NumAttentionHeads = 2, JointAttentionDim = 96, PooledProjectionDim = 48, GuidanceEmbeds = true, AxesDimsRope = new[] { 8, 12, 12 },
    };

    /// <summary>Whether <paramref name="module"/> (a diffusers module path) is one of the adapted projections.</summary>
    public static bool IsTarget(string module)
    {
        string[] parts = module.Split('.');
        if (parts.Length < 4 || parts[2] != "attn") return false;
        string leaf = string.Join(".", parts.Skip(3));
        return parts[0] switch
        {
            "transformer_blocks" => DoubleBlockTargets.Contains(leaf, StringComparer.Ordinal),
            "single_transformer_blocks" => SingleBlockTargets.Contains(leaf, StringComparer.Ordinal),
            _ => false,
        };
    }

    /// <summary>One transformer forward on the static inputs (see <see cref="Inputs"/> for the order).</summary>
    public Tensor Step(IReadOnlyList<Tensor> i) => Model.Forward(i[0], i[1], i[2], i[3], i[4], i[5], i[6]);

    /// <summary>Adds random rank-<paramref name="rank"/> adapters until <paramref name="count"/> are loaded; activates the first <paramref name="count"/>.</summary>
    public void EnsureAdapters(int count, int rank)
    {
        while (_adapters.Count < count)
        {
            var definition = RandomAdapter(100 + _adapters.Count, rank);
            _adapters.Add(Component.AddAdapter("a" + _adapters.Count, definition));
            Free(definition);
        }
        Component.SetAdapter(_adapters.Take(count).ToList());
    }

    /// <summary>Random rank-<paramref name="rank"/> factors (N(0, 0.01²), alpha = rank) for every adapted layer, on the device.</summary>
    public LoraAdapterDefinition RandomAdapter(long seed, int rank) => RandomAdapters.Create(Layers, seed, rank, DType, Device);

    public static void Free(LoraAdapterDefinition definition) => RandomAdapters.Free(definition);

    public void Dispose()
    {
        Component.UnloadLora();
        foreach (var t in Inputs) t.Dispose();
        Model.Dispose();
    }
}
