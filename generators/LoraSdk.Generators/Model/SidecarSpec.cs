namespace LoraSdk.Generators.Model;

/// <summary>
/// One header sidecar written by the LoraSdk build step (<c>obj/…/lorasdk/…/*.lorasdk.json</c>, format version 3, see
/// docs/generator.md): the facts of one adapter file the generator needs, its identity and the build step's status.
/// </summary>
/// <remarks>SidecarPath: The sidecar's own path.</remarks>
/// <remarks>ManifestPath: Full path of the manifest that references the file.</remarks>
/// <remarks>File: The file as written in the manifest.</remarks>
/// <remarks>RuntimePath: Where the build copies the file, relative to the output folder (<c>loras/&lt;hash&gt;/&lt;name&gt;</c>; empty unless ok).</remarks>
/// <remarks>Status: <c>ok</c>, <c>missing</c> (file not found) or <c>invalid</c> (header unreadable; see <paramref name="Error"/>).</remarks>
/// <remarks>Error: Why the file is invalid (missing/invalid), or why the sidecar itself is unreadable.</remarks>
/// <remarks>ComponentFacts: The derived facts of each component (same order as Components), computed once here.</remarks>
internal sealed record SidecarSpec(
    string SidecarPath,
    string ManifestPath,
    string File,
    string? ResolvedPath,
    string FileName,
    string RuntimePath,
    long FileSize,
    string Sha256,
    string Status,
    string? Error,
    string Format,
    EquatableArray<ComponentSpec> Components,
    EquatableArray<ComponentEmitSpec> ComponentFacts,
    EquatableArray<string> Unmapped,
    EquatableArray<UnsupportedSpec> Unsupported,
    EquatableArray<string> TriggerWords,
    string? DeclaredArchitecture,
    string? ImpliedArchitecture,
    bool UsesRsLora,
    EquatableArray<CompatibilityIssueSpec> Compatibility,
    EquatableArray<InvalidModuleSpec> Invalid,
    string? BaseModelError)
{
    public const string StatusOk = "ok";
    public const string StatusMissing = "missing";
    public const string StatusInvalid = "invalid";
    /// <summary>Not a status the build step writes: the generator could not read the sidecar.</summary>
    public const string StatusUnreadable = "unreadable";
}

/// <summary>
/// One component of the file model: its module paths (ordinal-sorted) with a baseline rank and alpha, the modules
/// whose rank or alpha differs from the baseline (<paramref name="OtherRanks"/>, <paramref name="OtherAlphas"/>, in
/// module order), the Conv2d modules (every other module is Linear) and the variants of its modules
/// (<paramref name="Variants"/>, ordinal-sorted <see cref="LoraSdk.Core.LoraVariants"/> names; empty = plain LoRA).
/// </summary>
internal sealed record ComponentSpec(
    string Name,
    int Rank,
    double Alpha,
    EquatableArray<string> Modules,
    EquatableArray<RankEntry> OtherRanks,
    EquatableArray<AlphaEntry> OtherAlphas,
    EquatableArray<string> Conv2dModules,
    EquatableArray<string> Variants = default)
{
    /// <summary>The largest module rank: the component's adapter rank by PEFT's rule (<see cref="LoraSdk.Core.AdapterRank"/>).</summary>
    public int MaxRank => Modules.Count == 0 ? 0 : LoraSdk.Core.AdapterRank.FromModules(ModuleRanks());

    private System.Collections.Generic.IEnumerable<int> ModuleRanks()
    {
        if (OtherRanks.Count < Modules.Count) yield return Rank;
        foreach (var r in OtherRanks) yield return r.Rank;
    }
}

/// <summary>A variant the engine refuses (kohya DoRA, LoCon Tucker mid, OFT, …) with its keys.</summary>
internal sealed record UnsupportedSpec(string Variant, EquatableArray<string> Keys);

/// <summary>
/// A module that does not fit the manifest's base model (the build step's <c>LoraFileModel.CheckCompatibility</c>):
/// <paramref name="MissingLayer"/> when the base model has no such layer, else a kind/shape mismatch.
/// </summary>
internal sealed record CompatibilityIssueSpec(string Component, string Module, string Reason, bool MissingLayer);

/// <summary>A module the file model could not build (e.g. lora_A/lora_B ranks disagree).</summary>
internal sealed record InvalidModuleSpec(string Component, string Module, string Reason);
