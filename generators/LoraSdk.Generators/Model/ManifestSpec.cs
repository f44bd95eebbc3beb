namespace LoraSdk.Generators.Model;

/// <summary>A string from the manifest with the location of its JSON value.</summary>
internal sealed record Located<T>(T Value, LocationInfo Location);

/// <summary>
/// The parsed manifest (values plus their locations); input of the binder, never of the emitter. A defaulted
/// <paramref name="Catalog"/> is located at the namespace (where its class name comes from);
/// <paramref name="HotswapGroupsLocation"/> and <paramref name="MergesLocation"/> locate the arrays (null when absent).
/// </summary>
internal sealed record ManifestSpec(
    string Path,
    Located<string>? Namespace,
    Located<string> Catalog,
    BaseModelSpec? BaseModel,
    EquatableArray<AdapterEntrySpec> Adapters,
    EquatableArray<HotswapGroupEntrySpec> HotswapGroups,
    EquatableArray<MergeEntrySpec> Merges,
    EquatableArray<DiagnosticInfo> Diagnostics,
    bool IsFatal,
    LocationInfo? HotswapGroupsLocation = null,
    LocationInfo? MergesLocation = null);

/// <summary><c>baseModel</c>: a built-in name (<c>sdxl</c>, <c>sd15</c>, <c>sd2</c>, <c>flux</c>) or a custom model.</summary>
/// <remarks>Name: The marker type name: <c>Sdxl</c>/<c>Sd15</c>/<c>Sd2</c>/<c>Flux</c> or the custom <c>name</c>.</remarks>
/// <remarks>IsBuiltIn: True for the markers shipped in LoraSdk.Typed.</remarks>
/// <remarks>Architecture: The architecture adapters must match (LSDK006); null = not checked.</remarks>
/// <remarks>UnetConfig: Custom UNet <c>config.json</c> (relative to the manifest), or null.</remarks>
/// <remarks>TransformerConfig: Custom Flux transformer <c>config.json</c> (relative to the manifest), or null.</remarks>
internal sealed record BaseModelSpec(string Name, bool IsBuiltIn, string? Architecture, string? UnetConfig, LocationInfo Location, LocationInfo NameLocation,
    string? TransformerConfig = null)
{
    /// <summary>The denoiser component of the base model: <c>transformer</c> for Flux, else <c>unet</c>.</summary>
    public string Denoiser => string.Equals(Architecture, LoraSdk.Core.LoraArchitectures.Flux, System.StringComparison.OrdinalIgnoreCase) || TransformerConfig != null
        ? LoraSdk.Core.LoraComponents.Transformer
        : LoraSdk.Core.LoraComponents.Unet;
}

/// <summary>
/// One <c>adapters[]</c> entry; <paramref name="Subfolder"/>: the PEFT adapter inside the folder <paramref name="File"/>
/// (PEFT's <c>from_pretrained(…, subfolder=…)</c>), or null.
/// </summary>
internal sealed record AdapterEntrySpec(
    Located<string> Name,
    Located<string> File,
    Located<string>? Prefix,
    Located<EquatableArray<string>>? TriggerWords,
    bool ReplaceTriggerWords,
    double DefaultWeight,
    LocationInfo Location,
    Located<string>? Subfolder = null)
{
    /// <summary>The sidecar key of the entry's source: <c>file</c>, plus <c>'\n'</c> and the subfolder when it has one.</summary>
    public string SourceKey => Subfolder == null ? File.Value : File.Value + "\n" + Subfolder.Value;

    /// <summary>The adapter as a path relative to the manifest: <c>file</c>, or <c>file/subfolder</c>.</summary>
    public string SourcePath => Subfolder == null ? File.Value : File.Value.TrimEnd('/', '\\') + "/" + Subfolder.Value;
}

/// <summary>One <c>hotswapGroups[]</c> entry; <see cref="TargetRank"/> null means <c>"max"</c>.</summary>
internal sealed record HotswapGroupEntrySpec(
    Located<string> Name,
    EquatableArray<Located<string>> Members,
    int? TargetRank,
    LocationInfo TargetRankLocation,
    LocationInfo Location);

/// <summary>One <c>merges[]</c> entry.</summary>
internal sealed record MergeEntrySpec(
    Located<string> Name,
    EquatableArray<Located<string>> Adapters,
    LocationInfo AdaptersLocation,
    EquatableArray<double> Weights,
    LocationInfo WeightsLocation,
    Located<string> CombinationType,
    Located<double>? Density,
    int? SvdRank,
    double? SvdClamp,
    bool SvdFullMatrices,
    string MajoritySignMethod,
    long? Seed,
    LocationInfo Location);
