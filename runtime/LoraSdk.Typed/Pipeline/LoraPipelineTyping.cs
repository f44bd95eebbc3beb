using System;

using LoraSdk.Core;

namespace LoraSdk.Typed;

/// <summary>Entry points of the typed LoRA API.</summary>
public static class LoraPipelineTyping
{
    /// <summary>The typed API of a pipeline whose base model is part of its type.</summary>
    /// <param name="pipeline">The pipeline.</param>
    /// <param name="resolvePath">Maps an adapter to its file (default: <see cref="LoraAdapter.RuntimePath"/> under the application folder).</param>
    public static TypedLoraPipeline<TBase> Typed<TBase>(this ILoraPipeline<TBase> pipeline, Func<LoraAdapter, string>? resolvePath = null)
        where TBase : BaseModel =>
        new TypedLoraPipeline<TBase>(pipeline, resolvePath);

    /// <summary>
    /// The typed API of a pipeline that does not state its base model: the caller asserts that it runs
    /// <typeparamref name="TBase"/> (for example a host that implements only <see cref="ILoraPipeline"/>).
    /// </summary>
    /// <param name="pipeline">The pipeline.</param>
    /// <param name="resolvePath">Maps an adapter to its file (default: <see cref="LoraAdapter.RuntimePath"/> under the application folder).</param>
    public static TypedLoraPipeline<TBase> AssumeBaseModel<TBase>(this ILoraPipeline pipeline, Func<LoraAdapter, string>? resolvePath = null)
        where TBase : BaseModel =>
        new TypedLoraPipeline<TBase>(pipeline, resolvePath);
}
