namespace LoraSdk.Adapters;

/// <summary>
/// What <c>EnableLoraHotswap</c> does when an adapter is already loaded (diffusers' <c>check_compiled</c>): hotswap
/// preparation must happen before the first load, or a compiled model would recompile.
/// </summary>
public enum HotswapCompileCheck
{
    /// <summary>Refuse (diffusers' <c>"error"</c>, the default).</summary>
    Error,

    /// <summary>Go ahead and warn (<c>"warn"</c>).</summary>
    Warn,

    /// <summary>Go ahead silently (<c>"ignore"</c>).</summary>
    Ignore,
}
