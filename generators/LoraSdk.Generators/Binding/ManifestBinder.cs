using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using LoraSdk.Core;
using LoraSdk.Generators.Model;
using LoraSdk.Generators.Parsing;

namespace LoraSdk.Generators.Binding;

/// <summary>
/// Joins a parsed manifest with the header sidecars of its files, runs every semantic check (LSDK002–LSDK015,
/// LSDK018–LSDK021) and produces the location-free emission specs.
/// </summary>
internal static class ManifestBinder
{
    public static BoundManifest Bind(ManifestSpec manifest, EquatableArray<SidecarSpec> sidecars, CancellationToken cancellationToken = default)
    {
        var binder = new Binder(manifest, sidecars, cancellationToken);
        return binder.Bind();
    }

    private static bool SameArchitecture(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private sealed class AdapterFacts
    {
        public AdapterFacts(AdapterEntrySpec entry, int index, AdapterEmitSpec spec, SidecarSpec sidecar,
            IReadOnlyList<ComponentSpec> components, IReadOnlyList<string> variants)
        {
            Entry = entry;
            Index = index;
            Spec = spec;
            Sidecar = sidecar;
            Components = components;
            Variants = variants;
        }

        public AdapterEntrySpec Entry { get; }
        public int Index { get; }
        public AdapterEmitSpec Spec { get; }
        public SidecarSpec Sidecar { get; }
        public IReadOnlyList<ComponentSpec> Components { get; }

        /// <summary>The denoiser part (<c>unet</c> or Flux <c>transformer</c>): what hotswap groups swap.</summary>
        public ComponentSpec? Denoiser => Components.FirstOrDefault(c => LoraComponents.IsDenoiser(c.Name));

        /// <summary>The variants of the selected components' modules, ordinal-sorted (<c>lora</c> for plain LoRA).</summary>
        public IReadOnlyList<string> Variants { get; }

        /// <summary>The variants merges refuse (not plain LoRA), joined with '+', or null for plain LoRA; hotswap groups ask <see cref="HotswapCompatibility"/>.</summary>
        public string? NotMergeable =>
            Variants.Any(v => !LoraVariantPolicy.CanHotswapAndMerge(v))
                ? string.Join("+", Variants.Where(v => !LoraVariantPolicy.CanHotswapAndMerge(v)))
                : null;

        public int DenoiserModuleCount => Denoiser?.Modules.Count ?? 0;

        /// <summary>
        /// What the hotswap rules need of this adapter: its denoiser modules with their ranks (a swap touches the
        /// denoiser only; text-encoder parts are LSDK014), the variants of every selected component, and the config
        /// key the sidecar shows (the denoiser's <c>use_rslora</c>).
        /// </summary>
        public HotswapAdapterFacts Hotswap => _hotswap ??= HotswapFactsOf();

        private HotswapAdapterFacts? _hotswap;

        private HotswapAdapterFacts HotswapFactsOf()
        {
            var modules = new List<HotswapModuleFacts>();
            if (Denoiser is { } denoiser)
            {
                var ranks = denoiser.OtherRanks.ToDictionary(r => r.Module, r => r.Rank, StringComparer.Ordinal);
                // The sidecar lists a component's variants, not each module's: a module's is known when there is one.
                string? variant = denoiser.Variants.Count == 1 ? denoiser.Variants[0] : null;
                foreach (var path in denoiser.Modules)
                    modules.Add(new HotswapModuleFacts(path, ranks.TryGetValue(path, out int r) ? r : denoiser.Rank, variant));
            }
            return new HotswapAdapterFacts(Spec.Name, modules, new HotswapConfigFacts(Denoiser?.UsesRsLora ?? Sidecar.UsesRsLora, null, null, null), Variants);
        }
    }

    private sealed class Binder
    {
        private readonly ManifestSpec _manifest;
        private readonly EquatableArray<SidecarSpec> _sidecars;
        private readonly CancellationToken _cancellationToken;
        private readonly List<DiagnosticInfo> _diagnostics = new List<DiagnosticInfo>();

        public Binder(ManifestSpec manifest, EquatableArray<SidecarSpec> sidecars, CancellationToken cancellationToken)
        {
            _manifest = manifest;
            _sidecars = sidecars;
            _cancellationToken = cancellationToken;
            _diagnostics.AddRange(manifest.Diagnostics);
        }

        private string ManifestFileName => SidecarParser.FileNameOf(_manifest.Path);

        public BoundManifest Bind()
        {
            if (_manifest.IsFatal || _manifest.Namespace == null || _manifest.BaseModel == null) return Result(null, null, null, null, null);
            bool typesOk = CheckTypeNames(_manifest.Namespace, _manifest.Catalog, _manifest.BaseModel);
            var validNames = CheckEntityNames();
            var baseModel = _manifest.BaseModel;
            var context = new TypeContext(_manifest.Namespace.Value, _manifest.Catalog.Value,
                baseModel.IsBuiltIn ? "global::LoraSdk.Typed." + baseModel.Name : "global::" + _manifest.Namespace.Value + "." + baseModel.Name,
                baseModel.IsBuiltIn ? baseModel.Architecture! : baseModel.Name, ManifestFileName);

            var byKey = IndexSidecars();
            foreach (var error in byKey.Values.Select(v => v.BaseModelError).Where(e => e != null).Distinct().OrderBy(e => e, StringComparer.Ordinal))
                ManifestError(baseModel.Location, $"baseModel: {error}");

            var facts = new Dictionary<string, AdapterFacts>(StringComparer.Ordinal);
            var adapters = new List<AdapterEmitSpec>();
            for (int i = 0; i < _manifest.Adapters.Count; i++)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                var entry = _manifest.Adapters[i];
                var bound = BindAdapter(entry, i, context, byKey);
                if (bound == null || !validNames.Contains(entry.Name.Value) || facts.ContainsKey(entry.Name.Value)) continue;
                facts.Add(entry.Name.Value, bound);
                adapters.Add(bound.Spec);
            }
            var groups = _manifest.HotswapGroups.Select(g => BindGroup(g, context, facts, validNames)).Where(g => g != null).Select(g => g!).ToList();
            var merges = _manifest.Merges.Select(m => BindMerge(m, context, facts, validNames)).Where(m => m != null).Select(m => m!).ToList();
            if (!typesOk) return Result(null, null, null, null, null);
            var catalog = new CatalogEmitSpec(context, adapters.Select(a => a.Name).ToEquatableArray(),
                groups.Select(g => g.Name).ToEquatableArray(), merges.Select(m => m.Name).ToEquatableArray());
            var baseModelSpec = baseModel.IsBuiltIn
                ? null
                : new BaseModelEmitSpec(context.Namespace, baseModel.Name, baseModel.Architecture, baseModel.UnetConfig, ManifestFileName, baseModel.TransformerConfig);
            return Result(catalog, baseModelSpec, adapters, groups, merges);
        }

        private BoundManifest Result(CatalogEmitSpec? catalog, BaseModelEmitSpec? baseModel, List<AdapterEmitSpec>? adapters,
            List<GroupEmitSpec>? groups, List<MergeEmitSpec>? merges)
        {
            var diagnostics = _diagnostics
                .Select((d, i) => (d, i))
                .OrderBy(p => p.d.Location?.Start ?? -1)
                .ThenBy(p => p.d.Descriptor.Id, StringComparer.Ordinal)
                .ThenBy(p => p.i)
                .Select(p => p.d)
                .ToEquatableArray();
            var sites = catalog == null
                ? null
                : new DeclarationSites(_manifest.Namespace!.Location, _manifest.Catalog.Location, _manifest.BaseModel!.NameLocation,
                    _manifest.HotswapGroupsLocation, _manifest.MergesLocation);
            return new BoundManifest(_manifest.Path, catalog, baseModel,
                (adapters ?? new List<AdapterEmitSpec>()).ToEquatableArray(),
                (groups ?? new List<GroupEmitSpec>()).ToEquatableArray(),
                (merges ?? new List<MergeEmitSpec>()).ToEquatableArray(),
                diagnostics, sites);
        }

        // ---- names (LSDK011) ----

        private bool CheckTypeNames(Located<string> ns, Located<string> catalog, BaseModelSpec baseModel)
        {
            bool ok = true;
            if (!NameRules.IsValidNamespace(ns.Value))
            {
                NameError(ns.Location, $"The namespace '{ns.Value}' is not a valid C# namespace (dotted identifiers, no keywords)");
                ok = false;
            }
            if (!NameRules.IsValidIdentifier(catalog.Value))
            {
                NameError(catalog.Location, $"The catalog name '{catalog.Value}' is not a valid C# identifier");
                ok = false;
            }
            else if (catalog.Value == NameRules.GroupsClass || catalog.Value == NameRules.MergesClass)
            {
                NameError(catalog.Location, $"The catalog name '{catalog.Value}' is reserved for the generated {catalog.Value} class");
                ok = false;
            }
            if (!baseModel.IsBuiltIn)
            {
                if (!NameRules.IsValidIdentifier(baseModel.Name))
                {
                    NameError(baseModel.NameLocation, $"The base model name '{baseModel.Name}' is not a valid C# identifier");
                    ok = false;
                }
                else if (baseModel.Name == catalog.Value || baseModel.Name == NameRules.GroupsClass || baseModel.Name == NameRules.MergesClass)
                {
                    NameError(baseModel.NameLocation, $"The base model name '{baseModel.Name}' collides with the generated {baseModel.Name} class");
                    ok = false;
                }
            }
            return ok;
        }

        /// <summary>Adapter, group and merge names: valid identifiers, unique (they share the pipeline's adapter names), no clash with generated members.</summary>
        private HashSet<string> CheckEntityNames()
        {
            var valid = new HashSet<string>(StringComparer.Ordinal);
            var seen = new Dictionary<string, Located<string>>(StringComparer.Ordinal);
            var all = _manifest.Adapters.Select(a => (Kind: "Adapter", Name: a.Name, Class: _manifest.Catalog.Value, Suffix: "Adapter", Reserved: NameRules.CatalogMembers))
                .Concat(_manifest.HotswapGroups.Select(g => (Kind: "Hotswap group", Name: g.Name, Class: NameRules.GroupsClass, Suffix: "Group", Reserved: NameRules.ListMembers)))
                .Concat(_manifest.Merges.Select(m => (Kind: "Merge", Name: m.Name, Class: NameRules.MergesClass, Suffix: "Merge", Reserved: NameRules.ListMembers)))
                .ToList();
            var generatedTypes = new HashSet<string>(all.Select(e => e.Class + "." + e.Name.Value + e.Suffix), StringComparer.Ordinal);
            foreach (var e in all)
            {
                string name = e.Name.Value;
                if (!NameRules.IsValidIdentifier(name))
                {
                    NameError(e.Name.Location, $"{e.Kind} name '{name}' is not a valid C# identifier");
                    continue;
                }
                if (seen.TryGetValue(name, out var first))
                {
                    NameError(e.Name.Location, $"{e.Kind} name '{name}' is used more than once (first at line {first.Location.StartLine + 1}); adapter, hotswap group and merge names share the pipeline's adapter names");
                    continue;
                }
                seen.Add(name, e.Name);
                if (name == e.Class || Array.IndexOf(e.Reserved, name) >= 0 || generatedTypes.Contains(e.Class + "." + name))
                {
                    NameError(e.Name.Location, $"{e.Kind} name '{name}' collides with a member the generator declares in class {e.Class}");
                    continue;
                }
                valid.Add(name);
            }
            return valid;
        }

        private void NameError(LocationInfo location, string message) =>
            _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NameInvalid, location, message));

        // ---- adapters (LSDK002–LSDK006, LSDK012, LSDK013, LSDK015) ----

        private Dictionary<string, SidecarSpec> IndexSidecars()
        {
            var map = new Dictionary<string, SidecarSpec>(StringComparer.Ordinal);
            string manifestKey = NormalizePath(_manifest.Path);
            foreach (var sidecar in _sidecars)
            {
                if (NormalizePath(sidecar.ManifestPath) != manifestKey) continue;
                if (!map.ContainsKey(sidecar.SourceKey)) map.Add(sidecar.SourceKey, sidecar);
            }
            return map;
        }

        private static string NormalizePath(string path) => path.Replace('\\', '/').ToUpperInvariant();

        private AdapterFacts? BindAdapter(AdapterEntrySpec entry, int index, TypeContext context, Dictionary<string, SidecarSpec> sidecars)
        {
            string name = entry.Name.Value;
            string file = entry.File.Value;
            // An invalid subfolder is LSDK001 already (the parser's); nothing more to say about the entry.
            if (entry.Subfolder != null && !ManifestParser.IsRelativeFolder(entry.Subfolder.Value)) return null;
            if (!sidecars.TryGetValue(entry.SourceKey, out var sidecar))
            {
                Report(DiagnosticDescriptors.AdapterFileMissing, entry.File.Location, name, file,
                    "has no header sidecar from the LoraSdk build step yet (build the project; the LoraSdk.Generators build targets must be imported)");
                return null;
            }
            switch (sidecar.Status)
            {
                case SidecarSpec.StatusOk:
                    break;
                case SidecarSpec.StatusMissing:
                    Report(DiagnosticDescriptors.AdapterFileMissing,
                        sidecar.ErrorAtSubfolder && entry.Subfolder != null ? entry.Subfolder.Location : entry.File.Location, name, file,
                        sidecar.Error ?? $"was not found{(sidecar.ResolvedPath != null ? " at '" + sidecar.ResolvedPath + "'" : "")}");
                    return null;
                case SidecarSpec.StatusInvalid:
                    Report(DiagnosticDescriptors.InvalidHeader, entry.File.Location, name, file, sidecar.Error ?? "unknown reason");
                    return null;
                case SidecarSpec.StatusRefused:
                    Report(DiagnosticDescriptors.PeftConfigRefused, entry.File.Location, name, entry.SourcePath, sidecar.Error ?? "unknown reason");
                    return null;
                default:
                    Report(DiagnosticDescriptors.AdapterFileMissing, entry.File.Location, name, file,
                        $"could not be inspected: {sidecar.Error ?? "status '" + sidecar.Status + "'"}");
                    return null;
            }

            // Malformed modules (LSDK003).
            if (sidecar.Invalid.Count > 0)
            {
                var first = sidecar.Invalid[0];
                Report(DiagnosticDescriptors.InvalidHeader, entry.File.Location, name, file,
                    $"{sidecar.Invalid.Count} malformed module(s), e.g. '{first.Component}: {first.Module}': {first.Reason}");
            }

            // Components selected by the prefix, and modules the base model has no layer for (LSDK004, LSDK013).
            string? prefix = entry.Prefix?.Value;
            var selected = sidecar.Components.Where(c => prefix == null || c.Name == prefix).Where(c => c.Modules.Count > 0).ToList();
            var issues = sidecar.Compatibility.Where(i => prefix == null || i.Component == prefix).ToList();
            var missingLayers = issues.Where(i => i.MissingLayer).ToList();
            var unmapped = new List<string>(sidecar.Unmapped);
            if (prefix != null && selected.Count == 0)
            {
                Report(DiagnosticDescriptors.NoKeyMaps, entry.Prefix!.Location, name, file, $" of component '{prefix}'");
            }
            else if (selected.Count == 0)
            {
                Report(DiagnosticDescriptors.NoKeyMaps, entry.File.Location, name, file, "");
            }
            foreach (var component in selected)
            {
                var missing = missingLayers.Where(i => i.Component == component.Name).ToList();
                if (missing.Count == component.Modules.Count)
                    Report(DiagnosticDescriptors.NoKeyMaps, entry.File.Location, name, file,
                        $" of component '{component.Name}' of the base model '{_manifest.BaseModel!.Name}'");
                else
                    unmapped.AddRange(missing.Select(i => $"{i.Component}: {i.Module}"));
            }
            if (unmapped.Count > 0)
            {
                const int shown = 10;
                string list = string.Join(", ", unmapped.Take(shown).Select(k => "'" + k + "'"))
                    + (unmapped.Count > shown ? $" and {unmapped.Count - shown} more" : "");
                Report(DiagnosticDescriptors.UnmappedKeys, entry.File.Location, name, unmapped.Count, file, list);
            }

            // What loading the PEFT folder warns about: fields that change nothing here, modules its config does not
            // select (not loaded, not in the typed adapter), targeted layers the weights do not cover (LSDK020).
            foreach (var warning in sidecar.Peft?.Warnings ?? EquatableArray<string>.Empty)
                Report(DiagnosticDescriptors.PeftLoadWarning, entry.File.Location, name, entry.SourcePath, warning);

            // Unsupported variants (LSDK005).
            foreach (var variant in sidecar.Unsupported)
            {
                Report(DiagnosticDescriptors.UnsupportedVariant, entry.File.Location, name, file, variant.Variant, variant.Keys.Count,
                    variant.Keys.Count > 0 ? variant.Keys[0] : "");
            }

            // Architecture: declared, implied by shapes, and layers whose shapes do not fit the base model (LSDK006).
            var baseModel = _manifest.BaseModel!;
            var reasons = new List<string>();
            string? expected = baseModel.Architecture;
            if (expected != null && sidecar.DeclaredArchitecture != null && !SameArchitecture(sidecar.DeclaredArchitecture, expected))
                reasons.Add($"the file declares the architecture '{sidecar.DeclaredArchitecture}'");
            // The sidecar's implied architecture is an architecture (a custom UNet config the shapes fit implies the custom
            // model's architecture), so it compares like the declared one; a custom model without one is not checked.
            if (expected != null && sidecar.ImpliedArchitecture != null && !SameArchitecture(sidecar.ImpliedArchitecture, expected))
                reasons.Add($"its tensor shapes imply '{sidecar.ImpliedArchitecture}'");
            var mismatched = issues.Where(i => !i.MissingLayer).ToList();
            if (mismatched.Count > 0)
                reasons.Add($"{mismatched.Count} layer(s) do not fit the base model (e.g. '{mismatched[0].Component}: {mismatched[0].Module}': {mismatched[0].Reason})");
            if (reasons.Count > 0)
                Report(DiagnosticDescriptors.ArchitectureMismatch, entry.File.Location, name, string.Join("; ", reasons),
                    baseModel.IsBuiltIn ? expected! : baseModel.Name);

            // Trigger words (LSDK012, LSDK015).
            var words = new List<string>();
            if (!entry.ReplaceTriggerWords) words.AddRange(sidecar.TriggerWords);
            if (entry.TriggerWords != null)
            {
                foreach (var w in entry.TriggerWords.Value)
                {
                    if (!words.Contains(w)) words.Add(w);
                }
            }
            bool fromFile = !entry.ReplaceTriggerWords && sidecar.TriggerWords.Count > 0;
            bool fromManifest = entry.TriggerWords != null && entry.TriggerWords.Value.Count > 0;
            string source = fromFile && fromManifest ? "file metadata + manifest" : fromFile ? "file metadata" : fromManifest ? "manifest" : "none";
            var triggerLocation = entry.TriggerWords?.Location ?? entry.Name.Location;
            if (words.Count == 0)
            {
                Report(DiagnosticDescriptors.NoTriggerWords, triggerLocation, name);
            }
            else
            {
                int tokens = ClipTokenBudget.CountLowerBound(words);
                if (tokens > ClipTokenBudget.PromptTokens)
                    Report(DiagnosticDescriptors.TriggerWordsTooLong, triggerLocation, name, tokens, ClipTokenBudget.PromptTokens);
            }

            // Facts.
            var components = selected.Select(c => sidecar.ComponentFacts.First(f => f.Name == c.Name)).ToList();
            var primary = components.FirstOrDefault(c => LoraComponents.IsDenoiser(c.Name)) ?? components.FirstOrDefault();
            // The adapter's rank is PEFT's (AdapterRank): the largest rank of the denoiser's modules, the rank that
            // equal-rank merges compare and hotswap pads to.
            var primarySidecar = selected.FirstOrDefault(c => LoraComponents.IsDenoiser(c.Name)) ?? selected.FirstOrDefault();
            int rank = primarySidecar?.MaxRank ?? 0;
            int maxRank = selected.Select(c => c.MaxRank).DefaultIfEmpty(0).Max();
            var variants = selected.SelectMany(c => c.Variants.Count == 0 ? new[] { LoraVariants.Lora } : c.Variants.AsEnumerable())
                .Distinct().OrderBy(v => v, StringComparer.Ordinal).DefaultIfEmpty(LoraVariants.Lora).ToList();
            // The rank marker types equal-rank merges, which combine plain LoRA factors only: an adapter of another
            // variant gets none, so such a merge of it does not compile.
            bool mergeable = variants.All(LoraVariantPolicy.CanHotswapAndMerge);
            var spec = new AdapterEmitSpec(
                context, name, NameRules.AdapterTypeName(name),
                rank > 0 && mergeable && RankMarkerRanks.IsSupported(rank) ? rank : (int?)null,
                entry.SourcePath, sidecar.FileName, sidecar.RuntimePath, sidecar.FileSize, sidecar.Sha256, sidecar.Format, prefix,
                rank, maxRank, primary?.Alpha ?? 0, primary?.Scaling ?? 0, sidecar.UsesRsLora,
                components.ToEquatableArray(), words.ToEquatableArray(), source,
                sidecar.DeclaredArchitecture, sidecar.ImpliedArchitecture, entry.DefaultWeight, string.Join("+", variants),
                sidecar.Peft == null ? null : new PeftEmitSpec(sidecar.Peft.ConfigSize, sidecar.Peft.ConfigSha256, sidecar.Peft.WeightsSize, sidecar.Peft.WeightsSha256));
            return new AdapterFacts(entry, index, spec, sidecar, selected, variants);
        }

        // ---- hotswap groups (LSDK007, LSDK008, LSDK014, LSDK018, LSDK021) ----

        private GroupEmitSpec? BindGroup(HotswapGroupEntrySpec group, TypeContext context, Dictionary<string, AdapterFacts> facts, HashSet<string> validNames)
        {
            string name = group.Name.Value;
            var members = new List<(AdapterFacts Facts, LocationInfo Location)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var member in group.Members)
            {
                if (!seen.Add(member.Value))
                {
                    ManifestError(member.Location, $"Hotswap group '{name}' lists '{member.Value}' more than once");
                    continue;
                }
                if (facts.TryGetValue(member.Value, out var f)) members.Add((f, member.Location));
                else if (!_manifest.Adapters.Any(a => a.Name.Value == member.Value))
                    ManifestError(member.Location, $"Hotswap group '{name}' names the unknown adapter '{member.Value}'");
            }
            if (members.Count == 0) return null;

            var loadOrder = members
                .OrderByDescending(m => m.Facts.DenoiserModuleCount)
                .ThenByDescending(m => m.Facts.Spec.MaxRank)
                .ThenBy(m => m.Facts.Index)
                .ToList();
            var first = loadOrder[0].Facts;
            // The typed API pads the slot to the group's target rank ("max": the largest member rank), loads the first
            // member, then swaps the others in: the engine's rules (HotswapCompatibility) decide what it would refuse.
            int maxRank = members.Max(m => m.Facts.Spec.MaxRank);
            int targetRank = group.TargetRank ?? maxRank;
            var slot = first.Hotswap;
            var rankReports = new List<(AdapterFacts Member, int Rank)>();
            foreach (var (member, location) in members)
            {
                var findings = HotswapCompatibility.Check(slot, member.Hotswap, targetRank);
                foreach (var finding in findings.Where(f => f.Kind == HotswapFindingKind.NotPlainLora && f.IncomingVariants.Count > 0))
                    Report(DiagnosticDescriptors.VariantNotHotswappableOrMergeable, location, $"Hotswap group '{name}'", member.Spec.Name,
                        string.Join("+", finding.IncomingVariants), "hot swapping");
                foreach (var te in member.Components.Where(c => !LoraComponents.IsDenoiser(c.Name)))
                    Report(DiagnosticDescriptors.HotswapTextEncoder, location, name, member.Spec.Name, te.Name, _manifest.BaseModel!.Denoiser);
                foreach (var finding in findings)
                {
                    switch (finding.Kind)
                    {
                        case HotswapFindingKind.LayersOutsideSlot:
                            Report(DiagnosticDescriptors.HotswapLayersOutside, location, name, member.Spec.Name, finding.Modules.Count, first.Spec.Name,
                                finding.Modules[0].Name);
                            break;
                        case HotswapFindingKind.IncompatibleConfig:
                            Report(DiagnosticDescriptors.HotswapConfigMismatch, location, name, member.Spec.Name, finding.ConfigKey!, finding.IncomingValue!,
                                first.Spec.Name, finding.LoadedValue!);
                            break;
                    }
                }
                if (findings.Any(f => f.Kind == HotswapFindingKind.RankAboveSlot)) rankReports.Add((member, member.Hotswap.Rank));
            }
            foreach (var (member, rank) in rankReports)
                Report(DiagnosticDescriptors.HotswapRankTooLow, group.TargetRankLocation, name, targetRank, rank, member.Spec.Name);
            if (!validNames.Contains(name)) return null;
            return new GroupEmitSpec(context, name, NameRules.GroupTypeName(name), targetRank, !group.TargetRank.HasValue,
                members.Select(m => new GroupMemberSpec(m.Facts.Spec.Name, m.Facts.Spec.TypeName, m.Facts.Spec.MaxRank, m.Facts.DenoiserModuleCount,
                    _manifest.BaseModel!.Denoiser == LoraComponents.Transformer ? LoraComponents.Transformer : "UNet")).ToEquatableArray(),
                loadOrder.Select(m => m.Facts.Spec.Name).ToEquatableArray());
        }

        // ---- merges (LSDK009, LSDK010, LSDK018) ----

        private MergeEmitSpec? BindMerge(MergeEntrySpec merge, TypeContext context, Dictionary<string, AdapterFacts> facts, HashSet<string> validNames)
        {
            string name = merge.Name.Value;
            string typeName = merge.CombinationType.Value;
            var type = CombinationTypes.TryParse(typeName, out var parsed) ? parsed : CombinationType.Svd; // the parser accepts only PEFT's names
            bool ok = true;
            var adapters = new List<(AdapterFacts Facts, LocationInfo Location)>();
            foreach (var a in merge.Adapters)
            {
                if (facts.TryGetValue(a.Value, out var f)) adapters.Add((f, a.Location));
                else
                {
                    ok = false;
                    if (!_manifest.Adapters.Any(e => e.Name.Value == a.Value))
                        ManifestError(a.Location, $"Merge '{name}' names the unknown adapter '{a.Value}'");
                }
            }
            foreach (var (facts0, location) in adapters)
            {
                if (facts0.NotMergeable is string variant)
                {
                    Report(DiagnosticDescriptors.VariantNotHotswappableOrMergeable, location, $"Merge '{name}'", facts0.Spec.Name, variant, "add_weighted_adapter");
                    ok = false;
                }
            }
            if (merge.Weights.Count != merge.Adapters.Count)
            {
                Report(DiagnosticDescriptors.MergeArguments, merge.WeightsLocation, name,
                    $"{merge.Weights.Count} weight(s) for {merge.Adapters.Count} adapter(s); give one weight per adapter");
                ok = false;
            }
            bool usesDensity = CombinationTypes.UsesDensity(type);
            if (merge.Density != null)
            {
                double d = merge.Density.Value;
                if (!(d > 0 && d <= 1))
                {
                    Report(DiagnosticDescriptors.MergeArguments, merge.Density.Location, name,
                        $"density {d.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} is outside (0, 1]");
                    ok = false;
                }
            }
            else if (usesDensity)
            {
                Report(DiagnosticDescriptors.MergeArguments, merge.CombinationType.Location, name,
                    $"combination type '{typeName}' needs a \"density\" in (0, 1]");
                ok = false;
            }
            if (CombinationTypes.RequiresEqualRanks(type) && adapters.Count > 1)
            {
                var reference = adapters[0].Facts.Spec;
                foreach (var (other, location) in adapters.Skip(1).Where(a => a.Facts.Spec.Rank != reference.Rank))
                {
                    Report(DiagnosticDescriptors.MergeNeedsEqualRanks, location, name, typeName, reference.Name, reference.Rank, other.Spec.Name, other.Spec.Rank);
                    ok = false;
                }
            }
            if (!ok || adapters.Count == 0 || !validNames.Contains(name)) return null;
            var ranks = adapters.Select(a => a.Facts.Spec.Rank).ToList();
            int resultRank = CombinationTypes.MergedRank(type, ranks, merge.SvdRank);
            return new MergeEmitSpec(context, name, NameRules.MergeTypeName(name), adapters.Select(a => a.Facts.Spec.Name).ToEquatableArray(),
                merge.Weights, typeName, merge.Density?.Value, merge.SvdRank, merge.SvdClamp, merge.SvdFullMatrices, merge.MajoritySignMethod,
                merge.Seed, resultRank);
        }

        private void ManifestError(LocationInfo location, string message) =>
            _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ManifestInvalid, location, message));

        private void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, LocationInfo location, params object[] arguments) =>
            _diagnostics.Add(DiagnosticInfo.Create(descriptor, location, arguments));
    }
}
