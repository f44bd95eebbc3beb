using Microsoft.CodeAnalysis;

namespace LoraSdk.Generators;

/// <summary>
/// Every diagnostic the generator reports: one descriptor per ID (one meaning, one default severity). The IDs and
/// default severities are a public contract (docs/generator.md, docs/diagnostics.md); each diagnostic is located at
/// the offending manifest line/column and can be re-rated in a .globalconfig
/// (<c>dotnet_diagnostic.LSDK012.severity = none</c>) or with NoWarn/WarningsAsErrors.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "LoraSdk";

    /// <summary>
    /// The page every descriptor's help link points into (<c>#lsdk004</c> = the section of LSDK004). Relative to the
    /// repository root until the documentation has a published address; change it here, in one place.
    /// </summary>
    public const string HelpLinkBase = "docs/diagnostics.md";

    public static readonly DiagnosticDescriptor ManifestInvalid = Create("LSDK001", "Adapters manifest is unreadable or violates the schema",
        "{0}", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor AdapterFileMissing = Create("LSDK002", "Adapter file missing",
        "Adapter '{0}': file '{1}' {2}", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor InvalidHeader = Create("LSDK003", "Not a valid safetensors header",
        "Adapter '{0}': '{1}' is not a valid safetensors LoRA file: {2}", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor NoKeyMaps = Create("LSDK004", "No LoRA key maps to a known layer",
        "Adapter '{0}': no LoRA key of '{1}' maps to a known layer{2}", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor UnmappedKeys = Create("LSDK013", "Some LoRA keys map to no known layer",
        "Adapter '{0}': {1} key(s) of '{2}' map to no known layer and will not be applied: {3}", DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor UnsupportedVariant = Create("LSDK005", "Unsupported LoRA variant",
        "Adapter '{0}': '{1}' uses the unsupported variant '{2}' ({3} key(s), e.g. '{4}')", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor ArchitectureMismatch = Create("LSDK006", "Adapter architecture differs from the base model",
        "Adapter '{0}': {1}, but the manifest's base model is '{2}'", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor HotswapLayersOutside = Create("LSDK007", "Hotswap member targets layers outside the group's first member",
        "Hotswap group '{0}': member '{1}' targets {2} layer(s) that the group's first member '{3}' does not (e.g. '{4}')", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor HotswapTextEncoder = Create("LSDK014", "Hotswap member has a text-encoder part",
        "Hotswap group '{0}': member '{1}' has a text-encoder part ('{2}'), which cannot be hotswapped; give it \"prefix\": \"{3}\"", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor HotswapRankTooLow = Create("LSDK008", "Hotswap targetRank below a member's rank",
        "Hotswap group '{0}': targetRank {1} is below the rank {2} of member '{3}'", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor MergeNeedsEqualRanks = Create("LSDK009", "Merge needs adapters of equal rank",
        "Merge '{0}': combination type '{1}' needs adapters of equal rank, but '{2}' has rank {3} and '{4}' has rank {5}", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor MergeArguments = Create("LSDK010", "Merge density or weights invalid",
        "Merge '{0}': {1}", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor NameInvalid = Create("LSDK011", "Duplicate or invalid adapter name",
        "{0}", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor NoTriggerWords = Create("LSDK012", "Adapter has no trigger words",
        "Adapter '{0}' has no trigger words (none in the file's metadata or the manifest)", DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor TriggerWordsTooLong = Create("LSDK015", "Trigger words exceed the CLIP token budget",
        "Adapter '{0}': its trigger words alone take at least {1} CLIP tokens, more than the {2} a 77-token prompt leaves", DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor NameCollision = Create("LSDK016", "Generated name collides with another manifest's",
        "{0}", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor LanguageVersionTooOld = Create("LSDK017", "C# version too old for the generated adapters",
        "The typed adapters of '{0}' need C# {1} or later, but this project compiles with C# {2}: set <LangVersion>{1}</LangVersion> or later. No adapter code was generated.",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor VariantNotHotswappableOrMergeable = Create("LSDK018", "Hotswap group or merge member is not plain LoRA",
        "{0}: adapter '{1}' uses the variant '{2}', but {3} accepts plain LoRA adapters only", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor PeftConfigRefused = Create("LSDK019", "PEFT adapter folder refused",
        "Adapter '{0}': the PEFT adapter folder '{1}' would be refused at load: {2}", DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor PeftLoadWarning = Create("LSDK020", "PEFT adapter folder loads with a warning",
        "Adapter '{0}': the PEFT adapter folder '{1}': {2}", DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor HotswapConfigMismatch = Create("LSDK021", "Hotswap member's adapter config differs from the group's first member",
        "Hotswap group '{0}': member '{1}' has {2} = {3}, but the group's first member '{4}' has {2} = {5}; hot swapping needs equal values", DiagnosticSeverity.Error);

    private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity) =>
        new DiagnosticDescriptor(id, title, message, Category, severity, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "#" + id.ToLowerInvariant());
}
