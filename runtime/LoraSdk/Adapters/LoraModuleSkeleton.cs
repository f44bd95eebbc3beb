using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.IO;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Adapters;

/// <summary>
/// A stand-in for the base model, built from LoRA files alone, so that the whole adapter lifecycle — loading any
/// supported format, PEFT's <c>add_weighted_adapter</c>, <c>save_lora_weights</c>, saving PEFT folders — runs without
/// the model's weights: every layer some source adapts becomes a <see cref="LoraLinear"/> / <see cref="LoraConv2d"/>
/// of the shape the adapters imply, whose base weight is one zero broadcast to that shape (no memory), registered at
/// its diffusers module path in <see cref="DiffusersModuleOrder"/> (the model's <c>named_modules</c> order, which
/// DARE's random masks follow). Components are named like the pipeline's (<c>unet</c>, <c>transformer</c>,
/// <c>text_encoder</c>, <c>text_encoder_2</c>) and save module paths as diffusers does. The skeleton knows only the
/// layers the sources have keys for: a PEFT folder's targets select among those, not among every layer of the real
/// model. Do not run a forward pass on it.
/// </summary>
public static class LoraModuleSkeleton
{
    /// <summary>
    /// Reads the headers of <paramref name="sources"/> (each a LoRA file, a folder holding one, or a PEFT adapter folder,
    /// as <see cref="LoraAdapterManager.LoadLoraWeights"/> takes them) and returns an adapter manager over a skeleton
    /// that can hold all of them. Nothing is loaded yet: call <see cref="LoraAdapterManager.LoadLoraWeights"/> for each.
    /// </summary>
    /// <param name="sources">The LoRA sources.</param>
    /// <param name="dtype">The layers' dtype (adapters are loaded into it); null: each layer takes the dtype of the first file that adapts it (float8 files: float32).</param>
    /// <param name="options">Load options (key layouts for kohya / SGM names, variant handling); also the manager's.</param>
    /// <exception cref="LoraException">A source is invalid, or two sources disagree on a layer's kind or shape.</exception>
    public static LoraAdapterManager CreateManager(IReadOnlyList<string> sources, ScalarType? dtype = null, LoraLoadOptions? options = null)
    {
        if (sources == null) throw new ArgumentNullException(nameof(sources));
        options ??= LoraLoadOptions.Default;
        var layers = new Dictionary<string, Dictionary<string, SkeletonLayer>>(StringComparer.Ordinal);
        foreach (var path in sources)
        {
            using var source = LoraFileSource.Open(path, options);
            source.Check(options);
            foreach (var component in source.Components)
            {
                if (!layers.TryGetValue(component, out var known)) layers[component] = known = new Dictionary<string, SkeletonLayer>(StringComparer.Ordinal);
                foreach (var spec in source.Model.Components[component].Values)
                {
                    if (!LoraVariantPolicy.IsApplied(spec.Variant)) continue;
                    var layer = SkeletonLayer.Of(spec, source.SourceName, dtype);
                    if (!known.TryGetValue(spec.ModulePath, out var existing)) known[spec.ModulePath] = layer;
                    else if (!existing.SameShape(layer))
                    {
                        throw new LoraException(LoraErrorKind.ShapeMismatch,
                            $"{component} layer '{spec.ModulePath}' is {existing.Describe()} in {existing.SourceName} but {layer.Describe()} in {source.SourceName}.",
                            modulePath: spec.ModulePath, sourceName: source.SourceName, component: component);
                    }
                }
            }
        }

        var components = new List<LoraComponent>();
        foreach (var name in layers.Keys.OrderBy(ComponentOrder).ThenBy(n => n, StringComparer.Ordinal))
            components.Add(new LoraComponent(name, BuildTree(name, layers[name]), OptionsFor(name)));
        return new LoraAdapterManager(components, options);
    }

    private static int ComponentOrder(string name)
    {
        int i = LoraComponents.All.ToList().IndexOf(name);
        return i < 0 ? int.MaxValue : i;
    }

    private static LoraComponentOptions OptionsFor(string component) => component switch
    {
        LoraComponents.Unet or LoraComponents.Transformer => new LoraComponentOptions { Kind = LoraComponentKind.Denoiser },
        // As the SDXL host: transformers' CLIPTextModelWithProjection keeps the text_model. level, so diffusers' files do too.
        LoraComponents.TextEncoder2 => new LoraComponentOptions { Kind = LoraComponentKind.TextEncoder, SavedModulePathMap = p => "text_model." + p },
        LoraComponents.TextEncoder => new LoraComponentOptions { Kind = LoraComponentKind.TextEncoder },
        _ => new LoraComponentOptions(),
    };

    private static nn.Module BuildTree(string component, Dictionary<string, SkeletonLayer> layers)
    {
        var root = new SkeletonNode(component);
        var nodes = new Dictionary<string, SkeletonNode>(StringComparer.Ordinal) { [""] = root };
        // Inserting paths in named_modules order makes every node's children registered in that order, so the tree's
        // pre-order traversal (LoraComponent's layer order) is the sorted order.
        foreach (var path in layers.Keys.OrderBy(p => p, DiffusersModuleOrder.Instance))
        {
            var segments = path.Split('.');
            var parent = root;
            string prefix = "";
            for (int i = 0; i < segments.Length - 1; i++)
            {
                prefix = prefix.Length == 0 ? segments[i] : prefix + "." + segments[i];
                if (!nodes.TryGetValue(prefix, out var node))
                {
                    if (layers.ContainsKey(prefix))
                    {
                        throw new LoraException(LoraErrorKind.ShapeMismatch,
                            $"{component} module '{prefix}' is adapted as a layer and also has adapted sub-modules ('{path}').", modulePath: path, component: component);
                    }
                    node = new SkeletonNode(segments[i]);
                    parent.Add(segments[i], node);
                    nodes[prefix] = node;
                }
                parent = node;
            }
            parent.Add(segments[^1], layers[path].Create());
        }
        return root;
    }

    /// <summary>A container module whose children are registered explicitly, in order.</summary>
    private sealed class SkeletonNode : nn.Module
    {
        public SkeletonNode(string name) : base(name) { }

        public void Add(string name, nn.Module child) => register_module(name, child);

        /// <summary>
        /// PyTorch's <c>named_modules()</c> order, depth-first pre-order (a child, its descendants, then the next child),
        /// which LoraComponent indexes; TorchSharp's default lists all direct children first.
        /// </summary>
        public override IEnumerable<(string name, nn.Module module)> named_modules()
        {
            foreach (var (name, child) in named_children())
            {
                yield return (name, child);
                foreach (var (path, descendant) in child.named_modules())
                    yield return (name + "." + path, descendant);
            }
        }
    }

    /// <summary>The shape and dtype of one skeleton layer.</summary>
    private sealed class SkeletonLayer
    {
        private SkeletonLayer(LoraLayerKind kind, long inFeatures, long outFeatures, (long H, long W) kernel, (long H, long W) stride,
            (long H, long W) padding, ScalarType dtype, string sourceName)
        {
            Kind = kind;
            InFeatures = inFeatures;
            OutFeatures = outFeatures;
            Kernel = kernel;
            Stride = stride;
            Padding = padding;
            DType = dtype;
            SourceName = sourceName;
        }

        public LoraLayerKind Kind { get; }

        public long InFeatures { get; }

        public long OutFeatures { get; }

        public (long H, long W) Kernel { get; }

        public (long H, long W) Stride { get; }

        public (long H, long W) Padding { get; }

        public ScalarType DType { get; }

        public string SourceName { get; }

        public static SkeletonLayer Of(LoraModuleSpec spec, string sourceName, ScalarType? dtype)
        {
            var layerType = dtype ?? (SafetensorsDTypeMapping.IsNative(spec.DType) ? SafetensorsDTypeMapping.ToScalarType(spec.DType) : ScalarType.Float32);
            if (layerType is not (ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64)) layerType = ScalarType.Float32;
            if (spec.Kind == LoraLayerKind.Linear)
                return new SkeletonLayer(spec.Kind, spec.InFeatures, spec.OutFeatures, (1, 1), (1, 1), (0, 0), layerType, sourceName);
            var k = spec.KernelSize ?? new[] { 1, 1 };
            var s = spec.Stride ?? new[] { 1, 1 };
            var p = spec.Padding ?? new[] { k[0] / 2, k[1] / 2 };
            return new SkeletonLayer(spec.Kind, spec.InFeatures, spec.OutFeatures, (k[0], k[1]), (s[0], s[1]), (p[0], p[1]), layerType, sourceName);
        }

        public bool SameShape(SkeletonLayer other) =>
            Kind == other.Kind && InFeatures == other.InFeatures && OutFeatures == other.OutFeatures && Kernel == other.Kernel;

        public string Describe() => Kind == LoraLayerKind.Linear
            ? $"Linear({InFeatures.ToString(CultureInfo.InvariantCulture)} -> {OutFeatures.ToString(CultureInfo.InvariantCulture)})"
            : $"Conv2d({InFeatures.ToString(CultureInfo.InvariantCulture)} -> {OutFeatures.ToString(CultureInfo.InvariantCulture)}, kernel {Kernel.H.ToString(CultureInfo.InvariantCulture)}x{Kernel.W.ToString(CultureInfo.InvariantCulture)})";

        public nn.Module Create()
        {
            // One zero element broadcast to the layer's shape: the adapters see the layer's shape, dtype and device;
            // no memory is spent on a base weight nothing reads.
            using var zero = torch.zeros(1, DType);
            if (Kind == LoraLayerKind.Linear)
                return new LoraLinear(new Parameter(zero.expand(OutFeatures, InFeatures), requires_grad: false), null);
            return new LoraConv2d(new Parameter(zero.expand(OutFeatures, InFeatures, Kernel.H, Kernel.W), requires_grad: false), null, Stride, Padding);
        }
    }
}
