using System;
using System.Collections.Generic;
using System.IO;

namespace LoraSdk.Core;

/// <summary>
/// Everything a LoRA safetensors file says about itself, read from its header (plus the few bytes of its
/// <c>.alpha</c> scalars): the key format, every module canonicalized to (component, diffusers module path) with
/// rank, alpha, kind and shapes, keys that map nowhere, unsupported variants, trigger words and architectures.
/// </summary>
public sealed class LoraFileModel
{
    internal LoraFileModel(SafetensorsHeader header, LoraFileModelOptions options, string format, IReadOnlyList<string> formats,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, LoraModuleSpec>> components, IReadOnlyList<LoraKeyMapping> keyMappings,
        IReadOnlyList<string> unmapped, IReadOnlyList<UnsupportedVariant> unsupported, IReadOnlyList<InvalidLoraModule> invalidModules,
        IReadOnlyList<string> warnings, IReadOnlyList<string> triggerWords, string? declaredArchitectureRaw, string? impliedArchitecture,
        IReadOnlyList<IgnoredLoraKey> ignored)
    {
        Ignored = ignored;
        Header = header;
        Options = options;
        Format = format;
        Formats = formats;
        Components = components;
        KeyMappings = keyMappings;
        Unmapped = unmapped;
        Unsupported = unsupported;
        InvalidModules = invalidModules;
        Warnings = warnings;
        TriggerWords = triggerWords;
        DeclaredArchitectureRaw = declaredArchitectureRaw;
        DeclaredArchitecture = LoraMetadata.NormalizeArchitecture(declaredArchitectureRaw);
        ImpliedArchitecture = impliedArchitecture;
        int count = 0;
        bool rs = false, dora = false;
        foreach (var c in components.Values)
        {
            foreach (var m in c.Values)
            {
                count++;
                rs |= m.UseRsLora;
                dora |= m.UsesDora;
            }
        }
        ModuleCount = count;
        UsesRsLora = rs;
        UsesDora = dora;
    }

    /// <summary>The file path or stream name.</summary>
    public string SourceName => Header.SourceName;

    /// <summary>The validated safetensors header.</summary>
    public SafetensorsHeader Header { get; }

    /// <summary>The layouts the keys were resolved against.</summary>
    public LoraFileModelOptions Options { get; }

    /// <summary>
    /// The key family (<see cref="LoraKeyFormats"/>): <c>peft</c>, <c>diffusers_old</c>, <c>kohya</c>,
    /// <c>kohya_sgm</c> (kohya with SGM UNet names), <c>lycoris</c>, <c>mixed</c> or <c>unknown</c>.
    /// </summary>
    public string Format { get; }

    /// <summary>Every key family seen (ordinal-sorted); one entry unless <see cref="Format"/> is <c>mixed</c> or <c>kohya_sgm</c>.</summary>
    public IReadOnlyList<string> Formats { get; }

    /// <summary>component → module path → module, both levels ordinal-sorted; only components with modules appear.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, LoraModuleSpec>> Components { get; }

    /// <summary>
    /// Every key that mapped (including tensors of unsupported variants), ordinal-sorted by key; a file tensor that feeds
    /// several modules (a fused Flux q/k/v layer) appears once per module.
    /// </summary>
    public IReadOnlyList<LoraKeyMapping> KeyMappings { get; }

    /// <summary>Keys of no known family or naming no known module, ordinal-sorted.</summary>
    public IReadOnlyList<string> Unmapped { get; }

    /// <summary>
    /// Keys diffusers reads but drops without loading (kohya Flux non-block layers, T5 keys, ...), with the reason,
    /// ordinal-sorted by key; never loaded.
    /// </summary>
    public IReadOnlyList<IgnoredLoraKey> Ignored { get; }

    /// <summary>
    /// Modules of variants the formats core recognises but does not build (kohya DoRA <c>dora_scale</c>, OFT, IA³, ...), by
    /// variant name. <see cref="LoraVariantPolicy.Refused"/> adds the built modules the engine does not apply (LoCon mid).
    /// </summary>
    public IReadOnlyList<UnsupportedVariant> Unsupported { get; }

    /// <summary>Modules whose keys mapped but whose tensors are inconsistent.</summary>
    public IReadOnlyList<InvalidLoraModule> InvalidModules { get; }

    /// <summary>Non-fatal findings (metadata that disagrees with shapes, malformed metadata JSON, ...).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Number of modules in <see cref="Components"/>.</summary>
    public int ModuleCount { get; }

    /// <summary>True when any module uses rsLoRA scaling (alpha / sqrt(r)).</summary>
    public bool UsesRsLora { get; }

    /// <summary>True when any module carries a PEFT DoRA magnitude vector (<c>lora_magnitude_vector</c>).</summary>
    public bool UsesDora { get; }

    /// <summary>Trigger words (see <see cref="LoraMetadata.ExtractTriggerWords"/>).</summary>
    public IReadOnlyList<string> TriggerWords { get; }

    /// <summary>The declared base architecture normalized to <see cref="LoraArchitectures"/> (unknown values verbatim), or null.</summary>
    public string? DeclaredArchitecture { get; }

    /// <summary>The declared architecture as written (<c>modelspec.architecture</c> or <c>ss_base_model_version</c>), or null.</summary>
    public string? DeclaredArchitectureRaw { get; }

    /// <summary>
    /// The architecture the tensor shapes imply: the one built-in UNet layout (sdxl, sd15, sd2) that every UNet module
    /// fits, else the configured <see cref="LoraFileModelOptions.Unet"/> (its <see cref="UnetLayout.Name"/>) when every
    /// module fits it, else the cross-attention width of <c>attn2.to_k</c>/<c>to_v</c> (2048 ⇒ sdxl, 768 ⇒ sd15,
    /// 1024 ⇒ sd2), else the text encoders (CLIP-G modules ⇒ sdxl, OpenCLIP-H ⇒ sd2); null when ambiguous or unknown.
    /// A file with <c>transformer</c> modules implies <c>flux</c> when they fit FLUX.1, else the configured
    /// <see cref="LoraFileModelOptions.Transformer"/>'s name when they fit it, else <c>flux</c> when only a Flux key
    /// layout (kohya / XLabs / BFL names, <c>transformer.</c> prefix) says so.
    /// </summary>
    public string? ImpliedArchitecture { get; }

    /// <summary>Looks a module up.</summary>
    public bool TryGetModule(string component, string modulePath, out LoraModuleSpec module)
    {
        module = null!;
        return Components.TryGetValue(component, out var modules) && modules.TryGetValue(modulePath, out module!);
    }

    /// <summary>PEFT's adapter config file name in an adapter folder.</summary>
    public const string PeftConfigFileName = "adapter_config.json";

    /// <summary>PEFT's adapter weights file name in an adapter folder.</summary>
    public const string PeftWeightsFileName = "adapter_model.safetensors";

    /// <summary>
    /// Reads a LoRA safetensors file — the header and the bytes of its <c>.alpha</c> scalars, never other tensor data —
    /// or a PEFT adapter folder (<c>adapter_config.json</c> + <c>adapter_model.safetensors</c>, as
    /// <c>PeftModel.save_pretrained</c> writes it), whose config then gives every module's rank pattern and alpha. A
    /// file named <c>adapter_model.safetensors</c> with an <c>adapter_config.json</c> beside it is read as that folder
    /// (its tensors carry no alpha; the config does).
    /// Pickle-based files (<c>.bin</c>, <c>.ckpt</c>, <c>.pt</c>, <c>.pth</c>) are refused.
    /// </summary>
    /// <exception cref="SafetensorsFormatException">The file is missing, unreadable, pickle-based or malformed.</exception>
    /// <exception cref="LoraSdkFormatException">A PEFT folder's config is not a JSON object.</exception>
    public static LoraFileModel Read(string path, LoraFileModelOptions? options = null)
    {
        if (path == null) throw new ArgumentNullException(nameof(path));
        if (Directory.Exists(path))
        {
            string configPath = Path.Combine(path, PeftConfigFileName);
            string weightsPath = Path.Combine(path, PeftWeightsFileName);
            if (!File.Exists(configPath) || !File.Exists(weightsPath))
                throw new SafetensorsFormatException(SafetensorsErrorKind.IoError, path,
                    $"is a directory; expected a .safetensors file or a PEFT adapter folder ({PeftConfigFileName} + {PeftWeightsFileName})");
            var warnings = new List<string>();
            var config = LoraAdapterConfig.FromJson(File.ReadAllText(configPath), configPath, warnings);
            using var weights = new FileStream(weightsPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
            return Read(weights, weights.Length, weightsPath, options, config, warnings);
        }
        if (string.Equals(Path.GetFileName(path), PeftWeightsFileName, StringComparison.Ordinal))
        {
            string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder != null && File.Exists(Path.Combine(folder, PeftConfigFileName))) return Read(folder, options);
        }
        SafetensorsHeader.RefusePickle(path);
        FileStream stream;
        try
        {
            // Unbuffered: the header is read in two exact reads and each alpha scalar with one positioned read, so a
            // 4 KB buffer would only add a copy (and a refill per scattered scalar).
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
        {
            throw new SafetensorsFormatException(SafetensorsErrorKind.IoError, path, e.Message, e);
        }
        using (stream) return Read(stream, stream.Length, path, options);
    }

    /// <summary>Reads a LoRA file from a seekable stream positioned at the start of the safetensors data.</summary>
    /// <exception cref="SafetensorsFormatException">The data is malformed or cannot be read.</exception>
    public static LoraFileModel Read(Stream stream, long streamLength, string sourceName, LoraFileModelOptions? options = null) =>
        Read(stream, streamLength, sourceName, options, null, null);

    private static LoraFileModel Read(Stream stream, long streamLength, string sourceName, LoraFileModelOptions? options,
        LoraAdapterConfig? adapterConfig, IReadOnlyList<string>? configWarnings)
    {
        if (stream == null) throw new ArgumentNullException(nameof(stream));
        if (!stream.CanSeek) throw new ArgumentException("the stream must be seekable", nameof(stream));
        long start = stream.Position;
        var header = SafetensorsHeader.Read(stream, streamLength, sourceName);
        var buffer = new byte[8];
        double ReadScalar(SafetensorsTensorInfo info)
        {
            if (info.ElementCount != 1) throw new ArgumentException($"tensor '{info.Name}' is not a scalar", nameof(info));
            int size = (int)info.ByteLength;
            try
            {
                stream.Position = start + header.DataOffset + info.Begin;
                int read = 0;
                while (read < size)
                {
                    int n = stream.Read(buffer, read, size - read);
                    if (n <= 0) break;
                    read += n;
                }
                if (read != size)
                    throw new SafetensorsFormatException(SafetensorsErrorKind.DataSectionMismatch, sourceName,
                        $"file ended inside tensor '{info.Name}'");
            }
            catch (IOException e)
            {
                throw new SafetensorsFormatException(SafetensorsErrorKind.IoError, sourceName, e.Message, e);
            }
            return ScalarDecoder.ToDouble(buffer, 0, info.DType);
        }
        return FromHeader(header, ReadScalar, options, adapterConfig, configWarnings);
    }

    /// <summary>
    /// Builds the model from a parsed header. <paramref name="readScalar"/> returns the value of a one-element
    /// tensor (used for <c>.alpha</c> keys only); without it, alpha tensors stay unresolved (alpha = rank,
    /// <see cref="LoraAlphaSource.Unresolved"/>).
    /// </summary>
    /// <param name="header">The parsed header.</param>
    /// <param name="readScalar">Reads a one-element tensor (the <c>.alpha</c> keys).</param>
    /// <param name="options">The base-model layouts.</param>
    /// <param name="adapterConfig">A PEFT folder's config, which then decides ranks and alphas instead of the header's metadata.</param>
    /// <param name="configWarnings">Warnings from reading <paramref name="adapterConfig"/>, reported with the model's own.</param>
    public static LoraFileModel FromHeader(SafetensorsHeader header, Func<SafetensorsTensorInfo, double>? readScalar = null,
        LoraFileModelOptions? options = null, LoraAdapterConfig? adapterConfig = null, IReadOnlyList<string>? configWarnings = null)
    {
        if (header == null) throw new ArgumentNullException(nameof(header));
        return new LoraFileModelBuilder(header, readScalar, options ?? LoraFileModelOptions.Default, adapterConfig, configWarnings).Build();
    }

    /// <summary>
    /// Checks every module against base-model layouts: the layer must exist with the same kind, in/out features and
    /// (for convs) kernel. A null layout skips its component (<paramref name="transformer"/>: the Flux
    /// <c>transformer</c>). Returns an empty list when the adapter fits.
    /// </summary>
    public IReadOnlyList<LoraCompatibilityIssue> CheckCompatibility(UnetLayout? unet, TextEncoderLayout? textEncoder = null,
        TextEncoderLayout? textEncoder2 = null, FluxTransformerLayout? transformer = null)
    {
        var issues = new List<LoraCompatibilityIssue>();
        foreach (var component in Components)
        {
            foreach (var m in component.Value.Values)
            {
                BaseModuleInfo? info = null;
                bool known;
                if (component.Key == LoraComponents.Unet)
                {
                    if (unet == null) continue;
                    known = unet.TryGetModule(m.ModulePath, out info);
                }
                else if (component.Key == LoraComponents.Transformer)
                {
                    if (transformer == null) continue;
                    known = transformer.TryGetModule(m.ModulePath, out info);
                }
                else
                {
                    var te = component.Key == LoraComponents.TextEncoder ? textEncoder : textEncoder2;
                    if (te == null) continue;
                    known = te.TryGetModule(m.ModulePath, out info);
                }
                string? reason = known ? Mismatch(m, info!) : "the base model has no such layer";
                if (reason != null) issues.Add(new LoraCompatibilityIssue(component.Key, m.ModulePath, reason));
            }
        }
        return issues;
    }

    internal static string? Mismatch(LoraModuleSpec m, BaseModuleInfo b)
    {
        if (m.Kind != b.Kind) return $"the adapter is {m.Kind} but the base layer is {b.Kind}";
        if (m.InFeatures != b.InFeatures || m.OutFeatures != b.OutFeatures)
            return $"the adapter maps {m.InFeatures} -> {m.OutFeatures} features but the base layer maps {b.InFeatures} -> {b.OutFeatures}";
        if (m.Kind == LoraLayerKind.Conv2d && b.KernelSize != null && m.KernelSize != null
            && (m.KernelSize[0] != b.KernelSize[0] || m.KernelSize[1] != b.KernelSize[1]))
            return $"the adapter kernel is {m.KernelSize[0]}x{m.KernelSize[1]} but the base kernel is {b.KernelSize[0]}x{b.KernelSize[1]}";
        return null;
    }
}
