using System.Collections.Generic;
using System.Linq;
using LoraSdk.Core;

namespace LoraSdk.Generators.Tests.Infrastructure;

/// <summary>
/// Builds header-sidecar text for generator tests, in the shape the build task writes (sidecar format 5, see
/// docs/generator.md), so generator tests need no real adapter files. Per component the baseline rank/alpha is the
/// most common one (ties → the larger), like the build task writes it.
/// </summary>
internal sealed class SidecarJson
{
    private readonly string _manifest;
    private readonly string _file;
    private readonly List<(string Component, List<(string Path, int Rank, double Alpha, string Kind)> Modules)> _components = new();
    private readonly Dictionary<string, string[]> _variants = new();
    private readonly List<string> _unmapped = new();
    private readonly List<(string Variant, string[] Keys)> _unsupported = new();
    private readonly List<(string Component, string Module, string Reason, bool Missing)> _compatibility = new();
    private readonly List<(string Component, string Module, string Reason)> _invalid = new();
    private readonly List<string> _triggerWords = new();
    private string _status = "ok";
    private string? _error;
    private string? _declared;
    private string? _implied;
    private string? _baseModelError;
    private string _format = "peft";
    private long _size = 1234;
    private string? _fileName;
    private string? _subfolder;
    private bool _errorAtSubfolder;
    private bool _usesRsLora;
    private (long ConfigSize, string ConfigSha, long WeightsSize, string WeightsSha, string[] Warnings)? _peft;

    private SidecarJson(string manifest, string file)
    {
        _manifest = manifest;
        _file = file;
    }

    public static SidecarJson For(string manifestPath, string file) => new SidecarJson(manifestPath, file);

    public string FileName => _fileName ?? (_subfolder ?? _file).Split('/', '\\').Last();

    /// <summary>The <c>fileName</c> the build step recorded (default: the last segment of the file).</summary>
    public SidecarJson WithFileName(string fileName) { _fileName = fileName; return this; }

    public SidecarJson Component(string component, IEnumerable<string> modules, int rank, double alpha, string kind = "linear")
    {
        var list = _components.FirstOrDefault(c => c.Component == component).Modules;
        if (list == null)
        {
            list = new List<(string, int, double, string)>();
            _components.Add((component, list));
        }
        list.AddRange(modules.Select(m => (m, rank, alpha, kind)));
        return this;
    }

    public SidecarJson Unet(IEnumerable<string> modules, int rank, double alpha, string kind = "linear") => Component("unet", modules, rank, alpha, kind);

    public SidecarJson Format(string format) { _format = format; return this; }

    /// <summary>The file's config turns rsLoRA on (<c>use_rslora</c> in its PEFT config or <c>lora_adapter_metadata</c>).</summary>
    public SidecarJson RsLora() { _usesRsLora = true; return this; }

    /// <summary>The variants of <paramref name="component"/>'s modules (the build step omits them for plain LoRA).</summary>
    public SidecarJson Variants(string component, params string[] variants) { _variants[component] = variants; return this; }
    public SidecarJson Size(long size) { _size = size; return this; }
    public SidecarJson TriggerWords(params string[] words) { _triggerWords.AddRange(words); return this; }
    public SidecarJson Declared(string? architecture) { _declared = architecture; return this; }
    public SidecarJson Implied(string? architecture) { _implied = architecture; return this; }
    public SidecarJson Unmapped(params string[] keys) { _unmapped.AddRange(keys); return this; }
    public SidecarJson Unsupported(string variant, params string[] keys) { _unsupported.Add((variant, keys)); return this; }
    public SidecarJson Compatibility(string component, string module, string reason, bool missing) { _compatibility.Add((component, module, reason, missing)); return this; }
    public SidecarJson Invalid(string component, string module, string reason) { _invalid.Add((component, module, reason)); return this; }
    public SidecarJson BaseModelError(string error) { _baseModelError = error; return this; }
    public SidecarJson Missing() { _status = "missing"; _error = "was not found at '/abs/" + _file + "'"; return this; }

    /// <summary>The entry's <c>subfolder</c> (the sidecar's key is file + subfolder).</summary>
    public SidecarJson Subfolder(string subfolder) { _subfolder = subfolder; return this; }

    /// <summary>Status <c>missing</c> with the build step's whole reason, about the subfolder when <paramref name="atSubfolder"/>.</summary>
    public SidecarJson Missing(string reason, bool atSubfolder = false) { _status = "missing"; _error = reason; _errorAtSubfolder = atSubfolder; return this; }

    /// <summary>Status <c>refused</c>: a PEFT folder the runtime refuses to load.</summary>
    public SidecarJson Refused(string reason) { _status = "refused"; _error = reason; return this; }

    /// <summary>A PEFT adapter folder (its two files' sizes and hashes) with the build step's load warnings.</summary>
    public SidecarJson Peft(params string[] warnings)
    {
        _peft = (1289, new string('c', 64), 225872, new string('d', 64), warnings);
        _size = 1289 + 225872;
        return this;
    }

    public SidecarJson HeaderError(string error) { _status = "invalid"; _error = error; return this; }

    private static T Mode<T>(IEnumerable<T> values) where T : System.IComparable<T> =>
        values.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key).First().Key;

    public string ToJson()
    {
        var w = new JsonWriter(indented: true);
        w.StartObject();
        w.Name("lorasdkSidecar").Value(5);
        w.Name("manifest").Value(_manifest);
        w.Name("file").Value(_file);
        if (_subfolder != null) w.Name("subfolder").Value(_subfolder);
        w.Name("path").Value("/abs/" + _file + (_subfolder == null ? "" : "/" + _subfolder));
        w.Name("fileName").Value(FileName);
        w.Name("fileSize").Value(_status == "missing" ? 0 : _size);
        w.Name("sha256").Value(_status == "ok" ? new string('a', 64) : "");
        w.Name("status").Value(_status);
        if (_error != null) w.Name("error").Value(_error);
        w.Name("baseModel").Value("sdxl");
        if (_errorAtSubfolder) w.Name("errorAt").Value("subfolder");
        if (_baseModelError != null) w.Name("baseModelError").Value(_baseModelError);
        if (_status == "ok")
        {
            w.Name("runtimePath").Value("loras/" + new string('a', 16) + "/" + FileName);
            if (_peft is { } peft)
            {
                w.Name("peft").StartObject();
                w.Name("config").StartObject().Name("size").Value(peft.ConfigSize).Name("sha256").Value(peft.ConfigSha).EndObject();
                w.Name("weights").StartObject().Name("size").Value(peft.WeightsSize).Name("sha256").Value(peft.WeightsSha).EndObject();
                w.Name("warnings").StartArray();
                foreach (var warning in peft.Warnings) w.Value(warning);
                w.EndArray().EndObject();
            }
            w.Name("format").Value(_format);
            w.Name("triggerWords").StartArray();
            foreach (var t in _triggerWords) w.Value(t);
            w.EndArray();
            w.Name("declaredArchitecture").Value(_declared);
            w.Name("impliedArchitecture").Value(_implied);
            w.Name("usesRsLora").Value(_usesRsLora);
            w.Name("components").StartObject();
            foreach (var (component, unsorted) in _components)
            {
                var modules = unsorted.OrderBy(m => m.Path, System.StringComparer.Ordinal).ToList();
                int rank = Mode(modules.Select(m => m.Rank));
                double alpha = Mode(modules.Select(m => m.Alpha));
                w.Name(component).StartObject().Name("rank").Value(rank).Name("alpha").Value(alpha).Name("modules").StartArray();
                foreach (var m in modules) w.Value(m.Path);
                w.EndArray();
                if (modules.Any(m => m.Rank != rank))
                {
                    w.Name("ranks").StartObject();
                    foreach (var m in modules.Where(m => m.Rank != rank)) w.Name(m.Path).Value(m.Rank);
                    w.EndObject();
                }
                if (modules.Any(m => m.Alpha != alpha))
                {
                    w.Name("alphas").StartObject();
                    foreach (var m in modules.Where(m => m.Alpha != alpha)) w.Name(m.Path).Value(m.Alpha);
                    w.EndObject();
                }
                if (modules.Any(m => m.Kind == "conv2d"))
                {
                    w.Name("conv2d").StartArray();
                    foreach (var m in modules.Where(m => m.Kind == "conv2d")) w.Value(m.Path);
                    w.EndArray();
                }
                if (_variants.TryGetValue(component, out var variants))
                {
                    w.Name("variants").StartArray();
                    foreach (var v in variants) w.Value(v);
                    w.EndArray();
                }
                w.EndObject();
            }
            w.EndObject();
            w.Name("unmapped").StartArray();
            foreach (var k in _unmapped) w.Value(k);
            w.EndArray();
            w.Name("unsupported").StartArray();
            foreach (var (variant, keys) in _unsupported)
            {
                w.StartObject().Name("variant").Value(variant).Name("keys").StartArray();
                foreach (var k in keys) w.Value(k);
                w.EndArray().EndObject();
            }
            w.EndArray();
            w.Name("invalid").StartArray();
            foreach (var i in _invalid)
                w.StartObject().Name("component").Value(i.Component).Name("module").Value(i.Module).Name("reason").Value(i.Reason).EndObject();
            w.EndArray();
            w.Name("compatibility").StartArray();
            foreach (var c in _compatibility)
            {
                w.StartObject().Name("component").Value(c.Component).Name("module").Value(c.Module).Name("reason").Value(c.Reason)
                    .Name("kind").Value(c.Missing ? "missing" : "mismatch").EndObject();
            }
            w.EndArray();
        }
        w.EndObject();
        return w.ToString();
    }
}

/// <summary>Module path sets shaped like SDXL/tiny-SDXL UNet attention modules.</summary>
internal static class Modules
{
    /// <summary><paramref name="blocks"/> transformer blocks × the given projections.</summary>
    public static IEnumerable<string> Attention(int blocks, params string[] projections)
    {
        if (projections.Length == 0) projections = new[] { "attn1.to_q", "attn1.to_k", "attn1.to_v", "attn1.to_out.0" };
        for (int b = 0; b < blocks; b++)
            foreach (var p in projections)
                yield return $"down_blocks.1.attentions.{b / 2}.transformer_blocks.{b % 2}.{p}";
    }

    public static IEnumerable<string> TextEncoder(int layers) =>
        Enumerable.Range(0, layers).SelectMany(l => new[] { "q_proj", "k_proj", "v_proj", "out_proj" }.Select(p => $"encoder.layers.{l}.self_attn.{p}"));
}
