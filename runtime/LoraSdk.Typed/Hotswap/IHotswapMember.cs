namespace LoraSdk.Typed;

/// <summary>
/// Implemented by the generated adapter types that are members of the hotswap group <typeparamref name="TGroup"/>.
/// It has no members: it only lets the compiler refuse a hotswap of a non-member (CS1503).
/// </summary>
/// <typeparam name="TGroup">The generated group type.</typeparam>
public interface IHotswapMember<TGroup>
    where TGroup : class
{
}
