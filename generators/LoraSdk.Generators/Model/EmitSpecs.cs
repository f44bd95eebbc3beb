namespace LoraSdk.Generators.Model;

// Location-free, value-equal inputs of the emitter: a manifest edit that moves lines, or that touches one adapter,
// leaves every other spec equal, so the incremental pipeline re-emits only what changed.

/// <summary>Where the generated types live and which base-model marker they use.</summary>
internal sealed record TypeContext(string Namespace, string Catalog, string BaseModelType, string BaseModelName, string ManifestFileName);

/// <summary>
/// One generated adapter type. <paramref name="FilePath"/> is the entry's <c>file</c> (with <c>/subfolder</c> when it has
/// one); for a PEFT adapter folder (<paramref name="Peft"/>) <paramref name="FileName"/> is the folder's name,
/// <paramref name="FileSize"/> its two files' sizes added and <paramref name="Sha256"/> the folder hash.
/// </summary>
internal sealed record AdapterEmitSpec(
    TypeContext Context,
    string Name,
    string TypeName,
    int? RankMarker,
    string FilePath,
    string FileName,
    string RuntimePath,
    long FileSize,
    string Sha256,
    string Format,
    string? Prefix,
    int Rank,
    int MaxRank,
    double Alpha,
    double Scaling,
    bool UsesRsLora,
    EquatableArray<ComponentEmitSpec> Components,
    EquatableArray<string> TriggerWords,
    string TriggerWordsSource,
    string? DeclaredArchitecture,
    string? ImpliedArchitecture,
    double DefaultWeight,
    string Variant,
    PeftEmitSpec? Peft = null);

/// <summary>The two files of a PEFT adapter folder (the generated docs name them); null for a LoRA file.</summary>
internal sealed record PeftEmitSpec(long ConfigSize, string ConfigSha256, long WeightsSize, string WeightsSha256);

/// <summary>
/// One component of a generated adapter. <paramref name="PackedModules"/> is the module paths joined with <c>'\n'</c>;
/// when a path itself contains <c>'\n'</c> the packed form is ambiguous, and <paramref name="UnpackableModules"/> holds
/// the paths (else it is empty).
/// </summary>
internal sealed record ComponentEmitSpec(
    string Name,
    int Rank,
    double Alpha,
    double Scaling,
    int ModuleCount,
    int Conv2dModuleCount,
    string PackedModules,
    EquatableArray<string> UnpackableModules,
    EquatableArray<TargetSummary> Targets,
    EquatableArray<RankEntry> RankPattern,
    EquatableArray<AlphaEntry> AlphaPattern);

/// <summary>A layer kind (module path without its block indices, e.g. <c>attn1.to_q</c>) and how many modules have it.</summary>
internal sealed record TargetSummary(string Leaf, int Count);

/// <summary>A module whose rank differs from the component's.</summary>
internal sealed record RankEntry(string Module, int Rank);

/// <summary>A module whose alpha differs from the component's.</summary>
internal sealed record AlphaEntry(string Module, double Alpha);

/// <summary>The catalog: adapter names and property names only (facts live in the adapter files).</summary>
internal sealed record CatalogEmitSpec(TypeContext Context, EquatableArray<string> AdapterNames, EquatableArray<string> GroupNames, EquatableArray<string> MergeNames);

/// <summary>A custom base-model marker type.</summary>
internal sealed record BaseModelEmitSpec(string Namespace, string TypeName, string? Architecture, string? UnetConfig, string ManifestFileName,
    string? TransformerConfig = null);

/// <summary>One generated hotswap group type.</summary>
internal sealed record GroupEmitSpec(
    TypeContext Context,
    string Name,
    string TypeName,
    int TargetRank,
    bool TargetRankIsMax,
    EquatableArray<GroupMemberSpec> Members,
    EquatableArray<string> LoadOrder);

/// <summary>A member of a hotswap group with the facts its docs show.</summary>
internal sealed record GroupMemberSpec(string Name, string TypeName, int MaxRank, int DenoiserModuleCount, string DenoiserLabel = "UNet");

/// <summary>One generated declared-merge type.</summary>
internal sealed record MergeEmitSpec(
    TypeContext Context,
    string Name,
    string TypeName,
    EquatableArray<string> Adapters,
    EquatableArray<double> Weights,
    string CombinationType,
    double? Density,
    int? SvdRank,
    double? SvdClamp,
    bool SvdFullMatrices,
    string MajoritySignMethod,
    long? Seed,
    int ResultRank);

/// <summary>
/// Everything the binder produced for one manifest; <paramref name="Sites"/> locates the declarations another
/// manifest may collide with (null when nothing is generated).
/// </summary>
internal sealed record BoundManifest(
    string ManifestPath,
    CatalogEmitSpec? Catalog,
    BaseModelEmitSpec? BaseModel,
    EquatableArray<AdapterEmitSpec> Adapters,
    EquatableArray<GroupEmitSpec> Groups,
    EquatableArray<MergeEmitSpec> Merges,
    EquatableArray<DiagnosticInfo> Diagnostics,
    DeclarationSites? Sites = null);

/// <summary>Where a manifest declares what becomes a namespace-level name: its namespace, catalog, base model, groups, merges.</summary>
internal sealed record DeclarationSites(LocationInfo Namespace, LocationInfo Catalog, LocationInfo BaseModelName,
    LocationInfo? HotswapGroups, LocationInfo? Merges);

/// <summary>A source the generator adds: its (unique, case-insensitively) hint name and the spec it is emitted from.</summary>
internal sealed record GeneratedSource<TSpec>(string HintName, TSpec Spec)
    where TSpec : System.IEquatable<TSpec>;

/// <summary>The diagnostics of one manifest, as the planner leaves them (binder's, plus collisions with other manifests).</summary>
internal sealed record ManifestDiagnostics(string ManifestPath, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// What every manifest of the compilation generates together (GenerationPlanner): the sources that survive the
/// cross-manifest checks, under unique hint names, and each manifest's diagnostics.
/// </summary>
internal sealed record GenerationPlan(
    EquatableArray<GeneratedSource<AdapterEmitSpec>> Adapters,
    EquatableArray<GeneratedSource<CatalogEmitSpec>> Catalogs,
    EquatableArray<GeneratedSource<BaseModelEmitSpec>> BaseModels,
    EquatableArray<GeneratedSource<GroupEmitSpec>> Groups,
    EquatableArray<GeneratedSource<MergeEmitSpec>> Merges,
    EquatableArray<ManifestDiagnostics> Diagnostics);
