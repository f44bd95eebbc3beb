using LoraSdk.Core;

namespace LoraSdk.Typed;

/// <summary>
/// A pipeline whose base model is known at compile time. It adds no members to <see cref="ILoraPipeline"/>: the
/// type argument only lets <see cref="LoraPipelineTyping.Typed{TBase}(ILoraPipeline{TBase}, System.Func{LoraAdapter, string})"/> hand out a
/// <see cref="TypedLoraPipeline{TBase}"/> that accepts adapters generated for <typeparamref name="TBase"/> only.
/// A pipeline that implements only <see cref="ILoraPipeline"/> can be typed with
/// <see cref="LoraPipelineTyping.AssumeBaseModel{TBase}(ILoraPipeline, System.Func{LoraAdapter, string})"/>.
/// </summary>
/// <typeparam name="TBase">The base-model marker (<see cref="Sdxl"/>, <see cref="Sd15"/>, …).</typeparam>
public interface ILoraPipeline<TBase> : ILoraPipeline
    where TBase : BaseModel
{
}
