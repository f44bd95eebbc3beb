using System;
using System.Collections.Generic;
using static TorchSharp.torch;
using LoraSdk.Core;

namespace LoraSdk.Adapters;

/// <summary>
/// A load (or hotswap) that passed every check and holds its tensors, ready to be committed without any further
/// failure point. Disposing it without committing frees the tensors and leaves the model untouched.
/// </summary>
internal sealed class LoraPreparedLoad : IDisposable
{
    public LoraPreparedLoad(LoraComponent component, string adapterName, LoraAdapterConfig config, bool hotswap)
    {
        Component = component;
        AdapterName = adapterName;
        Config = config;
        Hotswap = hotswap;
    }

    public LoraComponent Component { get; }

    public string AdapterName { get; }

    public LoraAdapterConfig Config { get; }

    public bool Hotswap { get; }

    public List<PreparedModule> Modules { get; } = new List<PreparedModule>();

    /// <summary>Hotswap: layers of the old adapter that the new one lacks (zero-filled, as PEFT does).</summary>
    public List<LayerSite> ZeroFill { get; } = new List<LayerSite>();

    public bool Committed { get; set; }

    public void Dispose()
    {
        if (Committed) return;
        foreach (var m in Modules)
        {
            m.A?.Dispose();
            m.B?.Dispose();
            m.Magnitude?.Dispose();
            if (m.VariantTensors is not null)
                foreach (var t in m.VariantTensors.Values) t.Dispose();
        }
        Modules.Clear();
    }

    /// <summary>One validated module with its loaded tensors (already in the layer's dtype and device and layout).</summary>
    internal sealed class PreparedModule
    {
        public PreparedModule(LayerSite slot, string sourcePath, string variant, int rank, double alpha, bool useRsLora)
        {
            Slot = slot;
            SourcePath = sourcePath;
            Variant = variant;
            Rank = rank;
            Alpha = alpha;
            UseRsLora = useRsLora;
        }

        public LayerSite Slot { get; }

        public string SourcePath { get; }

        /// <summary>The variant (<see cref="LoraVariants"/>).</summary>
        public string Variant { get; }

        public int Rank { get; }

        public double Alpha { get; }

        public bool UseRsLora { get; }

        public Tensor? A { get; set; }

        public Tensor? B { get; set; }

        /// <summary>The DoRA magnitude, or null for plain LoRA.</summary>
        public Tensor? Magnitude { get; set; }

        /// <summary>A LoHa/LoKr module's tensors by role (null for LoRA and DoRA).</summary>
        public Dictionary<LoraTensorRole, Tensor>? VariantTensors { get; set; }
    }
}
