using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Benchmarks.Host;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Diffusion.Models.Unet;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// The GPU workload: an SDXL-base-sized UNet with random weights, CFG batch 2, a latent of the given size, and
/// random rank-r adapters on every attention projection (to_q/to_k/to_v/to_out.0, 560 layers in SDXL-base).
/// </summary>
internal sealed class SdxlWorkload : IDisposable
{
    private static readonly string[] Targets = { "to_q", "to_k", "to_v", "to_out.0" };
    private readonly List<string> _adapters = new();
    private readonly int? _hotswapRank;

    /// <param name="hotswapRank">When set, <c>EnableLoraHotswap(hotswapRank)</c> precedes the first adapter (the guide's order for hotswaps under graphs).</param>
    public SdxlWorkload(Device device, ScalarType dtype, int latent, int? hotswapRank = null)
    {
        _hotswapRank = hotswapRank;
        Device = device;
        DType = dtype;
        Unet = new UNet2DConditionModel(SdxlBaseUNetConfig.Create(), new ModelPlacement(dtype, device));
        RandomWeights.Fill(Unet);
        Unet.eval();
        var c = Unet.Config;
        Sample = randn(new long[] { 2, c.InChannels, latent, latent }, dtype, device);
        Context = randn(new long[] { 2, 77, c.CrossAttentionDim[0] }, dtype, device);
        int pooled = (c.ProjectionClassEmbeddingsInputDim ?? 0) - 6 * (c.AdditionTimeEmbedDim ?? 0);
        TextEmbeds = randn(new long[] { 2, pooled }, dtype, device);
        TimeIds = tensor(new float[] { 1024, 1024, 0, 0, 1024, 1024, 1024, 1024, 0, 0, 1024, 1024 }, new long[] { 2, 6 }).to(dtype, device);
        Timestep = tensor(500f).to(device);
        Layers = Unet.named_modules()
            .Where(m => m.module is LoraLinear && Targets.Any(t => m.name.EndsWith("." + t, StringComparison.Ordinal)))
            .Select(m => (m.name, (LoraLinear)m.module)).ToList();
        Component = new LoraComponent("unet", Unet);
    }

    public Device Device { get; }

    public ScalarType DType { get; }

    public UNet2DConditionModel Unet { get; }

    public LoraComponent Component { get; }

    public IReadOnlyList<(string Name, LoraLinear Layer)> Layers { get; }

    public Tensor Sample { get; }

    public Tensor Context { get; }

    public Tensor TextEmbeds { get; }

    public Tensor TimeIds { get; }

    public Tensor Timestep { get; }

    /// <summary>sample, timestep, encoder_hidden_states, text_embeds, time_ids: the static inputs of a graph.</summary>
    public Tensor[] Inputs => new[] { Sample, Timestep, Context, TextEmbeds, TimeIds };

    public IReadOnlyList<string> AdapterNames => _adapters;

    /// <summary>One UNet step on (sample, timestep, context, text_embeds, time_ids).</summary>
    public Tensor Step(IReadOnlyList<Tensor> i) => Unet.Forward(i[0], i[1], i[2], i[3], i[4]);

    /// <summary>Adds random rank-<paramref name="rank"/> adapters until <paramref name="count"/> are loaded; activates all of them.</summary>
    public void EnsureAdapters(int count, int rank)
    {
        if (_adapters.Count == 0 && _hotswapRank is int target && !Component.IsHotswapPending) Component.EnableLoraHotswap(target);
        while (_adapters.Count < count)
        {
            var definition = RandomAdapter(100 + _adapters.Count, rank);
            _adapters.Add(Component.AddAdapter("a" + _adapters.Count, definition));
            Free(definition);
        }
        Component.SetAdapter(_adapters.Take(count).ToList());
    }

    /// <summary>Random rank-<paramref name="rank"/> factors for every adapted layer, on the device (free with <see cref="Free"/>).</summary>
    public LoraAdapterDefinition RandomAdapter(long seed, int rank) => RandomAdapters.Create(Layers, seed, rank, DType, Device);

    /// <summary>The bytes of one rank-<paramref name="rank"/> adapter's factors (what a hotswap copies).</summary>
    public long AdapterBytes(int rank)
    {
        long elements = Layers.Sum(l => rank * (l.Layer.InFeatures + l.Layer.OutFeatures));
        return elements * (DType is ScalarType.Float32 ? 4 : 2);
    }

    public static void Free(LoraAdapterDefinition definition) => RandomAdapters.Free(definition);

    public void Dispose()
    {
        Component.UnloadLora();
        foreach (var t in Inputs) t.Dispose();
        Unet.Dispose();
    }
}
