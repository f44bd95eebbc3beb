namespace LoraSdk.Generators;

/// <summary>Names of the incremental pipeline's steps (tests assert their Cached/Unchanged/Modified states).</summary>
internal static class TrackingNames
{
    public const string Inputs = "LoraSdk.Inputs";
    public const string Manifest = "LoraSdk.Manifest";
    public const string Sidecar = "LoraSdk.Sidecar";
    public const string Sidecars = "LoraSdk.Sidecars";
    public const string Bound = "LoraSdk.Bound";
    public const string Plan = "LoraSdk.Plan";
    public const string Adapter = "LoraSdk.Adapter";
    public const string Catalog = "LoraSdk.Catalog";
    public const string BaseModel = "LoraSdk.BaseModel";
    public const string HotswapGroup = "LoraSdk.HotswapGroup";
    public const string Merge = "LoraSdk.Merge";
    public const string Diagnostics = "LoraSdk.Diagnostics";

    public static readonly string[] All = { Inputs, Manifest, Sidecar, Sidecars, Bound, Plan, Adapter, Catalog, BaseModel, HotswapGroup, Merge, Diagnostics };
}
