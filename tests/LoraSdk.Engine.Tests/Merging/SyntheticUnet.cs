using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Core;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Merging;

/// <summary>
/// A module tree with a <see cref="LoraLinear"/> / <see cref="LoraConv2d"/> at every UNet path that lora_a, lora_b or
/// lora_d target, with the tiny SDXL UNet's layer shapes (from goldens.json → injected_modules), so the engine can load
/// the fixture files and merge them without the host UNet. lora_a's paths are registered first, in PEFT's module order.
/// </summary>
internal sealed class SyntheticUnet : nn.Module
{
    private readonly Dictionary<string, nn.Module> _nodes = new Dictionary<string, nn.Module>(StringComparer.Ordinal);

    private sealed class Node : nn.Module
    {
        public Node(string name) : base(name) { }

        public void Add(string name, nn.Module child) => register_module(name, child);
    }

    public SyntheticUnet(MergeFixture fx) : base("unet")
    {
        foreach (var tag in new[] { "lora_a", "lora_b", "lora_d" })
        {
            foreach (var (path, info) in fx.Goldens["injected_modules"]![tag]!["unet"]!["modules"]!.Properties)
            {
                if (Layers.ContainsKey(path)) continue;
                var a = info["lora_A_shape"]!.Items.Select(i => i.AsInt64()).ToArray();
                var b = info["lora_B_shape"]!.Items.Select(i => i.AsInt64()).ToArray();
                nn.Module layer = a.Length == 2
                    ? new LoraLinear(a[1], b[0])
                    : new LoraConv2d(a[1], b[0], a[2], stride: 1, padding: a[2] / 2);
                // The layers allocate their base parameters uninitialised (a loader fills them): give them values.
                using (no_grad())
                {
                    var l = (LoraLayer)layer;
                    l.Weight.normal_(0, 0.05);
                    l.Bias?.normal_(0, 0.05);
                }
                AddPath(path, layer);
                Layers[path] = layer;
            }
        }
    }

    /// <summary>Every LoRA-capable layer by module path.</summary>
    public Dictionary<string, nn.Module> Layers { get; } = new Dictionary<string, nn.Module>(StringComparer.Ordinal);

    /// <summary>A component over this tree named <c>unet</c>.</summary>
    public LoraComponent Component() =>
        new LoraComponent(LoraComponents.Unet, this, new LoraComponentOptions { Kind = LoraComponentKind.Denoiser, WrapPlainLayers = false });

    /// <summary>Runs one layer.</summary>
    public Tensor Run(string path, Tensor x) => ((nn.Module<Tensor, Tensor>)Layers[path]).forward(x);

    private void AddPath(string path, nn.Module leaf)
    {
        var parts = path.Split('.');
        nn.Module parent = this;
        string prefix = "";
        for (int i = 0; i < parts.Length - 1; i++)
        {
            prefix = prefix.Length == 0 ? parts[i] : prefix + "." + parts[i];
            if (!_nodes.TryGetValue(prefix, out var node))
            {
                node = new Node(parts[i]);
                Register(parent, parts[i], node);
                _nodes[prefix] = node;
            }
            parent = node;
        }
        Register(parent, parts[^1], leaf);
    }

    private void Register(nn.Module parent, string name, nn.Module child)
    {
        if (ReferenceEquals(parent, this)) register_module(name, child);
        else ((Node)parent).Add(name, child);
    }
}
