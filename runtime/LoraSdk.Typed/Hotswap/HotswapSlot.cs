using System;

namespace LoraSdk.Typed;

/// <summary>
/// A pipeline slot prepared for the hotswap group <typeparamref name="TGroup"/> by
/// <see cref="TypedLoraPipeline{TBase}.EnableHotswap{TGroup}(TGroup)"/>. <see cref="Swap"/> accepts members of the
/// group only (another adapter is a compile error, CS1503).
/// </summary>
/// <typeparam name="TBase">The base-model marker.</typeparam>
/// <typeparam name="TGroup">The generated group type.</typeparam>
public sealed class HotswapSlot<TBase, TGroup>
    where TBase : BaseModel
    where TGroup : HotswapGroup<TBase>
{
    internal HotswapSlot(TypedLoraPipeline<TBase> pipeline, TGroup group)
    {
        Pipeline = pipeline;
        Group = group;
    }

    /// <summary>The pipeline.</summary>
    public TypedLoraPipeline<TBase> Pipeline { get; }

    /// <summary>The group.</summary>
    public TGroup Group { get; }

    /// <summary>
    /// The adapter in the slot now: the one <see cref="TypedLoraPipeline{TBase}.EnableHotswap{TGroup}(TGroup)"/> loaded,
    /// then the last one swapped in — by <see cref="Swap"/> or by <see cref="TypedLoraPipeline{TBase}.Hotswap{TGroup}(TGroup, IHotswapMember{TGroup})"/>
    /// on any typed view of the same pipeline. A failed swap leaves it unchanged (as it leaves the weights).
    /// </summary>
    public LoraAdapter<TBase> Current =>
        HotswapSlotContents.Get(Pipeline.Pipeline, Group.Name) as LoraAdapter<TBase> ?? Group.First;

    /// <summary>Replaces the slot's weights with those of <paramref name="member"/> in place (no recompilation).</summary>
    public void Swap(IHotswapMember<TGroup> member) => Pipeline.Hotswap(Group, member);

    /// <summary>The slot with a weight, for <see cref="TypedLoraPipeline{TBase}.SetAdapters(WeightedAdapter{TBase}[])"/>.</summary>
    public WeightedAdapter<TBase> At(double weight) => new WeightedAdapter<TBase>(Group.Name, weight, null);

    /// <inheritdoc />
    public override string ToString() => $"{Group.Name}: {Current.Name}";

    internal static LoraAdapter<TBase> MemberAdapter(TGroup group, IHotswapMember<TGroup> member) =>
        member as LoraAdapter<TBase> ?? throw new ArgumentException(
            $"Hotswap group '{group.Name}': the member must be a generated adapter of the group, not {member?.GetType().FullName ?? "null"}.",
            nameof(member));
}
