using System.Collections.Generic;

namespace LoraSdk.Typed;

/// <summary>
/// A hotswap group declared in <c>adapters.manifest</c>: adapters that take turns in one pipeline slot without
/// recompiling (diffusers' <c>enable_lora_hotswap(target_rank)</c> + <c>load_lora_weights(…, hotswap=True)</c>).
/// The build checks, with the engine's own rules (<c>HotswapCompatibility</c> in LoraSdk.Core), that every member
/// targets only layers of the first adapter loaded (LSDK007), fits <see cref="TargetRank"/> (LSDK008), is plain LoRA
/// (LSDK018) and agrees with the first adapter's <c>use_rslora</c> (LSDK021), and that it has no text-encoder part
/// (LSDK014). The generator emits one sealed subclass
/// per group, and makes each member implement <see cref="IHotswapMember{TGroup}"/> of it, so swapping in an adapter
/// that is not a member does not compile.
/// </summary>
/// <typeparam name="TBase">The base-model marker.</typeparam>
public abstract class HotswapGroup<TBase>
    where TBase : BaseModel
{
    /// <summary>For generated group types.</summary>
    protected HotswapGroup()
    {
    }

    /// <summary>The group name; also the adapter name of the slot in the pipeline.</summary>
    public abstract string Name { get; }

    /// <summary>The rank every slot layer is padded to (<c>targetRank</c>; "max" = the largest member rank).</summary>
    public abstract int TargetRank { get; }

    /// <summary>The members in manifest order.</summary>
    public abstract IReadOnlyList<LoraAdapter<TBase>> Members { get; }

    /// <summary>The members in load order: the widest adapter (most target layers) first.</summary>
    public abstract IReadOnlyList<LoraAdapter<TBase>> LoadOrder { get; }

    /// <summary>The adapter loaded first (it defines the slot's layers).</summary>
    public LoraAdapter<TBase> First => LoadOrder[0];

    /// <inheritdoc />
    public override string ToString() => Name;
}
