using System;
using System.Collections.Generic;

namespace LoraSdk.Typed;

/// <summary>
/// A LoRA adapter declared in <c>adapters.manifest</c>, with the facts the build read from its safetensors header.
/// The source generator emits one sealed subclass per manifest entry (through <see cref="LoraAdapter{TBase}"/> or
/// <see cref="LoraAdapter{TBase, TRank}"/>); every property of that subclass is documented with its value, so
/// hovering an adapter in the IDE shows its rank, alpha, target layers and trigger words.
/// </summary>
public abstract class LoraAdapter
{
    private protected LoraAdapter()
    {
    }

    /// <summary>The adapter name from the manifest; also the adapter name used in the pipeline.</summary>
    public abstract string Name { get; }

    /// <summary>The file as written in the manifest (relative to the manifest's folder).</summary>
    public abstract string FilePath { get; }

    /// <summary>The file name (without folders).</summary>
    public abstract string FileName { get; }

    /// <summary>
    /// Where the build copies the file, relative to the application's output folder:
    /// <c>loras/&lt;first 16 hex digits of <see cref="Sha256"/>&gt;/&lt;file name&gt;</c>, so the copy is always the bytes
    /// these facts describe. <see cref="TypedLoraPipeline{TBase}"/> resolves it against
    /// <see cref="AppContext.BaseDirectory"/> unless given another resolver.
    /// </summary>
    public abstract string RuntimePath { get; }

    /// <summary>File size in bytes, as seen by the build.</summary>
    public abstract long FileSize { get; }

    /// <summary>Lower-case hex SHA-256 of the file, as computed by the build.</summary>
    public abstract string Sha256 { get; }

    /// <summary>The key format of the file (<c>peft</c>, <c>diffusers_old</c>, <c>kohya</c>, <c>kohya_sgm</c>, …).</summary>
    public abstract string Format { get; }

    /// <summary>
    /// The adapter variant (<see cref="LoraSdk.Core.LoraVariants"/>): <c>lora</c>, <c>dora</c>, <c>loha</c> or <c>lokr</c>;
    /// an adapter whose modules use several variants has their names joined with <c>+</c> in ordinal order
    /// (<c>loha+lora</c>). Only plain LoRA adapters can be hotswapped or merged
    /// (<see cref="LoraSdk.Core.LoraVariantPolicy.CanHotswapAndMerge"/>); the generator reports LSDK018 otherwise.
    /// </summary>
    public abstract string Variant { get; }

    /// <summary>The component prefix filter (like diffusers' <c>load_lora_adapter(prefix=…)</c>), or null for all components.</summary>
    public abstract string? Prefix { get; }

    /// <summary>
    /// The rank of the primary component (<c>unet</c> when present): its most common module rank, like the
    /// <c>r</c> diffusers derives for a PEFT <c>LoraConfig</c>. Modules with another rank are listed in
    /// <see cref="LoraComponentInfo.RankPattern"/>.
    /// </summary>
    public abstract int Rank { get; }

    /// <summary>The largest rank of any module of the selected components.</summary>
    public abstract int MaxRank { get; }

    /// <summary>The alpha of the primary component (its most common module alpha).</summary>
    public abstract double Alpha { get; }

    /// <summary>The scaling of the primary component: <c>Alpha / Rank</c> (rsLoRA: <c>Alpha / sqrt(Rank)</c>).</summary>
    public abstract double Scaling { get; }

    /// <summary>True when the file asks for rank-stabilized scaling (rsLoRA).</summary>
    public abstract bool UsesRsLora { get; }

    /// <summary>The selected components (<c>unet</c>, <c>text_encoder</c>, <c>text_encoder_2</c>) with their modules.</summary>
    public abstract IReadOnlyList<LoraComponentInfo> Components { get; }

    /// <summary>Trigger words (from the file's metadata, extended or replaced by the manifest).</summary>
    public abstract IReadOnlyList<string> TriggerWords { get; }

    /// <summary>The architecture the file's metadata declares (<c>sdxl</c>, <c>sd15</c>, <c>sd2</c>, …), or null.</summary>
    public abstract string? DeclaredArchitecture { get; }

    /// <summary>
    /// The architecture implied by the tensor shapes (<c>sdxl</c>, <c>sd15</c>, <c>sd2</c>, comparable with
    /// <see cref="DeclaredArchitecture"/>), or null when unknown or ambiguous. When the shapes fit a custom base model's
    /// UNet config (and no built-in layout), it is that base model's <c>architecture</c> (null when it declares none).
    /// </summary>
    public abstract string? ImpliedArchitecture { get; }

    /// <summary>The default weight from the manifest (1.0 unless set).</summary>
    public abstract double DefaultWeight { get; }

    /// <summary>The base-model marker type the adapter is for.</summary>
    public abstract Type BaseModel { get; }

    /// <summary>The trigger words joined with <c>", "</c>, ready to prepend to a prompt.</summary>
    public string TriggerPrompt => string.Join(", ", TriggerWords);

    /// <summary>The component named <paramref name="component"/>, or null when the adapter has no such part.</summary>
    public LoraComponentInfo? GetComponent(string component)
    {
        foreach (var info in Components)
        {
            if (string.Equals(info.Name, component, StringComparison.Ordinal)) return info;
        }
        return null;
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
