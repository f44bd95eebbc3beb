namespace LoraSdk.Generators.Model;

/// <summary>
/// One header sidecar written by the LoraSdk build step (<c>obj/…/lorasdk/…/*.lorasdk.json</c>, format version 5, see
/// docs/generator.md): the facts of one adapter (a LoRA file or a PEFT adapter folder) the generator needs, its
/// identity and the build step's status.
/// </summary>
/// <remarks>SidecarPath: The sidecar's own path.</remarks>
/// <remarks>ManifestPath: Full path of the manifest that references the file.</remarks>
/// <remarks>File: The file as written in the manifest.</remarks>
/// <remarks>RuntimePath: Where the build copies the file, relative to the output folder (<c>loras/&lt;hash&gt;/&lt;name&gt;</c>; empty unless ok).</remarks>
/// <remarks>Status: <c>ok</c>, <c>missing</c> (nothing usable at the path), <c>invalid</c> (header unreadable) or
/// <c>refused</c> (a PEFT folder the runtime refuses to load); see <paramref name="Error"/>.</remarks>
/// <remarks>Error: Why (for <c>missing</c>, the rest of "file '…' …"), or why the sidecar itself is unreadable.</remarks>
/// <remarks>Subfolder: The entry's <c>subfolder</c> (with <paramref name="File"/> the sidecar's key), or null.</remarks>
/// <remarks>ErrorAtSubfolder: The error is about the entry's <c>subfolder</c> (located there).</remarks>
/// <remarks>Peft: The PEFT adapter folder's files and load warnings, or null for a LoRA file.</remarks>
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
    string? BaseModelError,
    string? Subfolder = null,
    bool ErrorAtSubfolder = false,
    PeftSourceSpec? Peft = null)
{
    public const string StatusOk = "ok";
    public const string StatusMissing = "missing";
    public const string StatusInvalid = "invalid";
    /// <summary>A PEFT adapter folder whose config the runtime refuses (LSDK019).</summary>
    public const string StatusRefused = "refused";

    /// <summary>The key manifest entries find their sidecar by (<see cref="AdapterEntrySpec.SourceKey"/>).</summary>
    public string SourceKey => Subfolder == null ? File : File + "\n" + Subfolder;
    /// <summary>Not a status the build step writes: the generator could not read the sidecar.</summary>
    public const string StatusUnreadable = "unreadable";
}

/// <summary>
/// One component of the file model: its module paths (ordinal-sorted) with a baseline rank and alpha, the modules
/// whose rank or alpha differs from the baseline (<paramref name="OtherRanks"/>, <paramref name="OtherAlphas"/>, in
/// module order), the Conv2d modules (every other module is Linear) and the variants of its modules
/// (<paramref name="Variants"/>, ordinal-sorted <see cref="LoraSdk.Core.LoraVariants"/> names; empty = plain LoRA) and
/// whether its modules use rsLoRA (<paramref name="UsesRsLora"/>: its config's <c>use_rslora</c>).
/// </summary>
internal sealed record ComponentSpec(
    string Name,
    int Rank,
    double Alpha,
    EquatableArray<string> Modules,
    EquatableArray<RankEntry> OtherRanks,
    EquatableArray<AlphaEntry> OtherAlphas,
    EquatableArray<string> Conv2dModules,
    EquatableArray<string> Variants = default,
    bool UsesRsLora = false)
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

/// <summary>
/// A PEFT adapter folder (<c>adapter_config.json</c> + <c>adapter_model.safetensors</c>): each file's size and SHA-256, and
/// what the runtime warns about when it loads the folder (LSDK020).
/// </summary>
internal sealed record PeftSourceSpec(long ConfigSize, string ConfigSha256, long WeightsSize, string WeightsSha256, EquatableArray<string> Warnings);
