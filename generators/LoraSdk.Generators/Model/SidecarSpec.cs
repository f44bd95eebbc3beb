namespace LoraSdk.Generators.Model;

/// <summary>
/// One header sidecar written by the LoraSdk build step (<c>obj/…/lorasdk/…/*.lorasdk.json</c>): the
/// <c>lorasdk inspect --json</c> document of one adapter file plus the file's identity and the build step's status.
/// </summary>
/// <remarks>SidecarPath: The sidecar's own path.</remarks>
/// <remarks>ManifestPath: Full path of the manifest that references the file.</remarks>
/// <remarks>File: The file as written in the manifest.</remarks>
/// <remarks>Status: <c>ok</c>, <c>missing</c> (file not found) or <c>invalid</c> (header unreadable; see <paramref name="Error"/>).</remarks>
/// <remarks>Error: Why the file is invalid (missing/invalid), or why the sidecar itself is unreadable.</remarks>
internal sealed record SidecarSpec(
    string SidecarPath,
    string ManifestPath,
    string File,
    string? ResolvedPath,
    string FileName,
    long FileSize,
    string Sha256,
    string Status,
    string? Error,
    string Format,
    EquatableArray<ComponentSpec> Components,
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

/// <summary>One component of the file model with its modules (ordinal-sorted by path).</summary>
internal sealed record ComponentSpec(string Name, EquatableArray<ModuleSpec> Modules);

/// <summary>One LoRA module.</summary>
internal sealed record ModuleSpec(string Path, int Rank, double Alpha, bool IsConv2d);

/// <summary>An unsupported variant (LoHa, LoKr, DoRA, …) with its keys.</summary>
internal sealed record UnsupportedSpec(string Variant, EquatableArray<string> Keys);

/// <summary>
/// A module that does not fit the manifest's base model (the build step's <c>LoraFileModel.CheckCompatibility</c>):
/// <paramref name="MissingLayer"/> when the base model has no such layer, else a kind/shape mismatch.
/// </summary>
internal sealed record CompatibilityIssueSpec(string Component, string Module, string Reason, bool MissingLayer);

/// <summary>A module the file model could not build (e.g. lora_A/lora_B ranks disagree).</summary>
internal sealed record InvalidModuleSpec(string Component, string Module, string Reason);
