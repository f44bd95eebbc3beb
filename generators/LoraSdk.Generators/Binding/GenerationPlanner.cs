using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using LoraSdk.Generators.Emission;
using LoraSdk.Generators.Model;

namespace LoraSdk.Generators.Binding;

/// <summary>
/// Puts the bound manifests of one compilation together. Each manifest's binder already made its own names unique;
/// across manifests, the namespace-level names (catalog classes, custom base-model markers, the per-namespace
/// <c>HotswapGroups</c>/<c>Merges</c> classes, and the namespaces themselves) must not be declared twice. Manifests
/// are taken in ordinal order of their paths (a file listed twice counts once); the first declaration of a name is
/// generated, a later one is not and gets LSDK016 at its manifest value. A custom base model declared alike (same
/// name and architecture) by several manifests is one shared marker. Finally every source gets a hint name that is
/// unique ignoring case (Roslyn compares hint names case-insensitively: <c>Ikea</c> and <c>IKEA</c> would clash).
/// </summary>
internal static class GenerationPlanner
{
    public static GenerationPlan Plan(ImmutableArray<BoundManifest> manifests, CancellationToken cancellationToken = default)
    {
        var planner = new Planner();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var manifest in manifests.OrderBy(m => m.ManifestPath, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (seen.Add(manifest.ManifestPath)) planner.Add(manifest);
        }
        return planner.Result();
    }

    /// <summary>What a namespace-level name is, for messages.</summary>
    private sealed record Declaration(string Kind, string ManifestPath, string? Architecture = null);

    private sealed class Planner
    {
        private readonly Dictionary<string, Declaration> _types = new Dictionary<string, Declaration>(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _namespaces = new Dictionary<string, string>(StringComparer.Ordinal);
        private readonly List<GeneratedSource<AdapterEmitSpec>> _adapters = new List<GeneratedSource<AdapterEmitSpec>>();
        private readonly List<GeneratedSource<CatalogEmitSpec>> _catalogs = new List<GeneratedSource<CatalogEmitSpec>>();
        private readonly List<GeneratedSource<BaseModelEmitSpec>> _baseModels = new List<GeneratedSource<BaseModelEmitSpec>>();
        private readonly List<GeneratedSource<GroupEmitSpec>> _groups = new List<GeneratedSource<GroupEmitSpec>>();
        private readonly List<GeneratedSource<MergeEmitSpec>> _merges = new List<GeneratedSource<MergeEmitSpec>>();
        private readonly List<ManifestDiagnostics> _diagnostics = new List<ManifestDiagnostics>();

        public void Add(BoundManifest manifest)
        {
            var collisions = new List<DiagnosticInfo>();
            Accept(manifest, collisions);
            _diagnostics.Add(collisions.Count == 0
                ? new ManifestDiagnostics(manifest.ManifestPath, manifest.Diagnostics)
                : new ManifestDiagnostics(manifest.ManifestPath, manifest.Diagnostics.Concat(collisions).ToEquatableArray()));
        }

        private void Accept(BoundManifest manifest, List<DiagnosticInfo> collisions)
        {
            if (manifest.Catalog == null || manifest.Sites == null) return;
            var sites = manifest.Sites;
            string path = manifest.ManifestPath;
            string ns = manifest.Catalog.Context.Namespace;
            void Collide(LocationInfo at, string message) =>
                collisions.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NameCollision, at, message));

            // The namespace (and every enclosing one) must not be a class another manifest generates.
            foreach (var prefix in Prefixes(ns))
            {
                if (_types.TryGetValue(prefix, out var type))
                {
                    Collide(sites.Namespace, $"The namespace '{ns}' contains '{prefix}', the {type.Kind} generated from '{type.ManifestPath}'; give this manifest another \"namespace\"");
                    return;
                }
            }

            // The catalog class: the whole manifest's code hangs off it.
            string catalogType = ns + "." + manifest.Catalog.Context.Catalog;
            string? clash = Clash(catalogType, "catalog class", "give this manifest another \"namespace\" or \"catalog\"");
            if (clash != null)
            {
                Collide(sites.Catalog, clash);
                return;
            }

            // A custom base-model marker: shared when declared alike, else a collision.
            bool emitBaseModel = manifest.BaseModel != null;
            if (manifest.BaseModel is { } baseModel)
            {
                string markerType = ns + "." + baseModel.TypeName;
                if (_types.TryGetValue(markerType, out var existing) && existing.Kind == "base-model marker")
                {
                    if (!string.Equals(existing.Architecture, baseModel.Architecture, StringComparison.Ordinal))
                    {
                        Collide(sites.BaseModelName,
                            $"The base-model marker '{markerType}' is already generated from '{existing.ManifestPath}' with architecture " +
                            $"'{existing.Architecture ?? "none"}' (here '{baseModel.Architecture ?? "none"}'); declare it alike in both manifests, " +
                            "or give this one another name or \"namespace\"");
                        return;
                    }
                    emitBaseModel = false;
                }
                else if ((clash = Clash(markerType, "base-model marker", "give this manifest's base model another name or the manifest another \"namespace\"")) != null)
                {
                    Collide(sites.BaseModelName, clash);
                    return;
                }
            }

            // The per-namespace HotswapGroups and Merges classes.
            var catalog = manifest.Catalog;
            bool emitGroups = manifest.Groups.Count > 0;
            if (emitGroups && SharedClassTaken(ns + "." + NameRules.GroupsClass, "hotswap groups", sites.HotswapGroups ?? sites.Namespace, Collide))
            {
                emitGroups = false;
                catalog = catalog with { GroupNames = EquatableArray<string>.Empty };
            }
            bool emitMerges = manifest.Merges.Count > 0;
            if (emitMerges && SharedClassTaken(ns + "." + NameRules.MergesClass, "merges", sites.Merges ?? sites.Namespace, Collide))
            {
                emitMerges = false;
                catalog = catalog with { MergeNames = EquatableArray<string>.Empty };
            }

            // Accepted: register the names, then the sources.
            _types[catalogType] = new Declaration("catalog class", path);
            foreach (var prefix in Prefixes(ns))
            {
                if (!_namespaces.ContainsKey(prefix)) _namespaces.Add(prefix, path);
            }
            _catalogs.Add(new GeneratedSource<CatalogEmitSpec>(Emitter.HintName(catalog), catalog));
            if (emitBaseModel)
            {
                _types[ns + "." + manifest.BaseModel!.TypeName] = new Declaration("base-model marker", path, manifest.BaseModel.Architecture);
                _baseModels.Add(new GeneratedSource<BaseModelEmitSpec>(Emitter.HintName(manifest.BaseModel), manifest.BaseModel));
            }
            foreach (var adapter in manifest.Adapters) _adapters.Add(new GeneratedSource<AdapterEmitSpec>(Emitter.HintName(adapter), adapter));
            if (emitGroups)
            {
                _types[ns + "." + NameRules.GroupsClass] = new Declaration("class", path);
                foreach (var group in manifest.Groups) _groups.Add(new GeneratedSource<GroupEmitSpec>(Emitter.HintName(group), group));
            }
            if (emitMerges)
            {
                _types[ns + "." + NameRules.MergesClass] = new Declaration("class", path);
                foreach (var merge in manifest.Merges) _merges.Add(new GeneratedSource<MergeEmitSpec>(Emitter.HintName(merge), merge));
            }
        }

        /// <summary>Why <paramref name="fullName"/> cannot be declared (another manifest's class or namespace has it), or null.</summary>
        private string? Clash(string fullName, string kind, string fix)
        {
            if (_types.TryGetValue(fullName, out var type))
            {
                return type.Kind == kind
                    ? $"The {kind} '{fullName}' is already generated from '{type.ManifestPath}'; {fix}"
                    : $"The {kind} '{fullName}' has the name of the {type.Kind} generated from '{type.ManifestPath}'; {fix}";
            }
            if (_namespaces.TryGetValue(fullName, out var owner))
                return $"The {kind} '{fullName}' has the name of the namespace '{fullName}' of '{owner}'; {fix}";
            return null;
        }

        private bool SharedClassTaken(string fullName, string what, LocationInfo at, Action<LocationInfo, string> collide)
        {
            if (_types.TryGetValue(fullName, out var type))
            {
                collide(at, type.Kind == "class"
                    ? $"The class '{fullName}' is already generated from '{type.ManifestPath}' (one per namespace); declare these {what} in that manifest, or give this manifest another \"namespace\""
                    : $"The class '{fullName}' of these {what} has the name of the {type.Kind} generated from '{type.ManifestPath}'; give this manifest another \"namespace\"");
                return true;
            }
            if (_namespaces.TryGetValue(fullName, out var owner))
            {
                collide(at, $"The class '{fullName}' of these {what} has the name of the namespace '{fullName}' of '{owner}'; give this manifest another \"namespace\"");
                return true;
            }
            return false;
        }

        public GenerationPlan Result()
        {
            // Hint names unique ignoring case: every member of a case-insensitive clash gets a suffix from its exact name.
            var all = _adapters.Select(s => s.HintName).Concat(_catalogs.Select(s => s.HintName)).Concat(_baseModels.Select(s => s.HintName))
                .Concat(_groups.Select(s => s.HintName)).Concat(_merges.Select(s => s.HintName)).ToList();
            var clashing = new HashSet<string>(
                all.GroupBy(h => h, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).SelectMany(g => g),
                StringComparer.Ordinal);
            var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            string Unique(string hint)
            {
                string result = clashing.Contains(hint) ? hint.Substring(0, hint.Length - ".g.cs".Length) + "." + StableHash(hint) + ".g.cs" : hint;
                // Defensive: an exact duplicate (not expected after the checks above) gets a counter instead of crashing the generator.
                string candidate = result;
                for (int n = 2; !used.Add(candidate); n++) candidate = result.Substring(0, result.Length - ".g.cs".Length) + "." + n + ".g.cs";
                return candidate;
            }
            EquatableArray<GeneratedSource<T>> Rename<T>(List<GeneratedSource<T>> sources)
                where T : IEquatable<T> =>
                sources.Select(s => s with { HintName = Unique(s.HintName) }).ToEquatableArray();
            return new GenerationPlan(Rename(_adapters), Rename(_catalogs), Rename(_baseModels), Rename(_groups), Rename(_merges),
                _diagnostics.ToEquatableArray());
        }
    }

    /// <summary><c>A.B.C</c> → <c>A</c>, <c>A.B</c>, <c>A.B.C</c>.</summary>
    private static IEnumerable<string> Prefixes(string ns)
    {
        for (int dot = ns.IndexOf('.'); dot >= 0; dot = ns.IndexOf('.', dot + 1)) yield return ns.Substring(0, dot);
        yield return ns;
    }

    /// <summary>8 hex digits of FNV-1a over the UTF-16 code units: stable across processes (unlike string.GetHashCode).</summary>
    internal static string StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = unchecked((hash ^ c) * 16777619);
        }
        return hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }
}
