using LoraSdk.Core;
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.IO;
using LoraSdk.Layers;
using LoraSdk.Merging;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Merging;

/// <summary>
/// add_weighted_adapter through the engine (<see cref="LoraComponent.AddWeightedAdapter"/>) on a component whose layers
/// have the tiny SDXL UNet's paths and shapes: the installed adapter equals PEFT's merge goldens for every case, and it
/// is an ordinary adapter — set_adapters, forward, fuse/unfuse, save_lora_adapter and reload, delete all work on it.
/// </summary>
public sealed class MergedAdapterLifecycleTests : IClassFixture<MergeFixture>, IDisposable
{
    private readonly MergeFixture _fx;
    private readonly ITestOutputHelper _out;
    private readonly SyntheticUnet _unet;
    private readonly LoraComponent _component;
    private readonly string _dir = Directory.CreateTempSubdirectory("lorasdk-merge-").FullName;

    public MergedAdapterLifecycleTests(MergeFixture fx, ITestOutputHelper output)
    {
        _fx = fx;
        _out = output;
        _unet = new SyntheticUnet(fx);
        _component = _unet.Component();
        foreach (var tag in new[] { "a", "d", "b" })
        {
            _component.LoadLoraAdapter(Path.Combine(fx.Fixtures, "loras", $"lora_{tag}.safetensors"), "unet", tag);
        }
    }

    public void Dispose()
    {
        _component.UnloadLora();
        _unet.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private void AddCase(string name)
    {
        var (tags, weights, options) = PeftMergeParityTests.Case(name, MergedAdapterInitialization.KaimingUniform);
        // What a caller does for PEFT parity: the DARE replay follows the first adapter's init_lora_weights.
        var init = MergedAdapterInitializations.FromInitLoraWeights(_component.GetAdapterConfig(tags[0]).ToDict()["init_lora_weights"]);
        _component.AddWeightedAdapter(tags, weights, name, new LoraMergeOptions
        {
            CombinationType = options.CombinationType, SvdRank = options.SvdRank, Density = options.Density, Seed = options.Seed,
            Initialization = init,
        });
    }

    [Theory]
    [InlineData("ad_linear", false)]
    [InlineData("ad_cat", false)]
    [InlineData("ad_svd", true)]
    [InlineData("ad_ties", false)]
    [InlineData("ad_ties_svd", true)]
    [InlineData("ad_magnitude_prune", false)]
    [InlineData("ad_dare_linear", false)]
    [InlineData("ad_dare_ties", false)]
    [InlineData("ab_cat", false)]
    public void Engine_merge_installs_peft_factors(string name, bool product)
    {
        var activeBefore = _component.GetActiveAdapters().ToList();
        AddCase(name);
        Assert.Equal(activeBefore, _component.GetActiveAdapters()); // PEFT's add_weighted_adapter leaves them alone
        var config = _component.GetAdapterConfig(name);
        var golden = _fx.Merges[name]!["merged_config"]!;
        Assert.Equal(golden["r"]!.AsInt64(), config.R);
        Assert.Equal(golden["lora_alpha"]!.AsDouble(), config.LoraAlpha);
        Assert.Equal(golden["target_modules"]!.Items.Select(i => i.AsString()).OrderBy(t => t, StringComparer.Ordinal),
            config.TargetModules.OrderBy(t => t, StringComparer.Ordinal));
        var weights = _component.GetAdapterWeights(name);
        Assert.Equal((int)_fx.Merges[name]!["num_modules"]!.AsInt64(), weights.Count);
        double worst = 0;
        int compared = 0;
        foreach (var (path, w) in weights)
        {
            Assert.Equal(1.0, w.Scaling);
            if (!_fx.HasGolden($"merge/{name}/{path}.lora_A")) continue;
            compared++;
            using var scope = NewDisposeScope();
            var ga = _fx.Golden($"merge/{name}/{path}.lora_A");
            var gb = _fx.Golden($"merge/{name}/{path}.lora_B");
            if (product)
            {
                worst = Math.Max(worst, TensorAssert.Close(TensorAssert.Product(ga, gb), TensorAssert.Product(((LowRankWeights)w).A, ((LowRankWeights)w).B), 1e-4, $"{name} {path} B·A"));
            }
            else
            {
                worst = Math.Max(worst, TensorAssert.Close(ga, ((LowRankWeights)w).A, 1e-4, $"{name} {path}.lora_A"));
                worst = Math.Max(worst, TensorAssert.Close(gb, ((LowRankWeights)w).B, 1e-4, $"{name} {path}.lora_B"));
            }
        }
        Assert.Equal((int)_fx.Merges[name]!["num_modules_stored"]!.AsInt64(), compared);
        _out.WriteLine($"{name}: {weights.Count} layers, {compared} compared, worst relative error {worst:E3}");
    }

    [Fact]
    public void Merging_into_an_existing_name_or_from_an_unknown_adapter_changes_nothing()
    {
        var before = _component.ListAdapters().ToList();
        Assert.Throws<LoraException>(() => _component.AddWeightedAdapter(new[] { "a", "d" }, new[] { 1.0, 1.0 }, "b",
            new LoraMergeOptions { CombinationType = CombinationType.Linear }));
        Assert.Throws<LoraException>(() => _component.AddWeightedAdapter(new[] { "a", "zzz" }, new[] { 1.0, 1.0 }, "m",
            new LoraMergeOptions { CombinationType = CombinationType.Linear }));
        var e = Assert.Throws<LoraMergeException>(() => _component.AddWeightedAdapter(new[] { "a", "b" }, new[] { 1.0, 0.5 }, "m",
            new LoraMergeOptions { CombinationType = CombinationType.Linear }));
        Assert.Equal(LoraMerger.SameRankMessage, e.Message);
        Assert.Equal(before, _component.ListAdapters());
    }

    /// <summary>y = layer(x) with only the merged adapter active, expected from its golden factors (scaling 1).</summary>
    private static Tensor ExpectedForward(nn.Module layer, Tensor x, Tensor a, Tensor b)
    {
        if (layer is LoraLinear lin)
        {
            return nn.functional.linear(x, lin.Weight, lin.Bias) + nn.functional.linear(nn.functional.linear(x, a), b);
        }
        var conv = (LoraConv2d)layer;
        var stride = new[] { conv.Stride.H, conv.Stride.W };
        var padding = new[] { conv.Padding.H, conv.Padding.W };
        return nn.functional.conv2d(x, conv.Weight, conv.Bias, stride, padding)
            + nn.functional.conv2d(nn.functional.conv2d(x, a, null, stride, padding), b);
    }

    private static Tensor InputFor(nn.Module layer) => layer is LoraLinear lin
        ? randn(3, lin.InFeatures)
        : randn(1, ((LoraConv2d)layer).InChannels, 8, 8);

    [Fact]
    public void The_merged_adapter_is_an_ordinary_adapter()
    {
        const string name = "ab_cat";
        AddCase(name);
        var stored = _fx.Merges[name]!["stored_modules"]!.Items.Select(i => i.AsString()).ToList();
        _component.SetAdapters(name);
        Assert.Equal(new[] { name }, _component.GetActiveAdapters());

        // Forward with the merged adapter active equals base + B·A from PEFT's factors (Linear and Conv2d layers).
        using (var noGrad = no_grad())
        {
            foreach (var path in stored)
            {
                using var scope = NewDisposeScope();
                var layer = _unet.Layers[path];
                var x = InputFor(layer);
                TensorAssert.Close(ExpectedForward(layer, x, _fx.Golden($"merge/{name}/{path}.lora_A"), _fx.Golden($"merge/{name}/{path}.lora_B")),
                    _unet.Run(path, x), 1e-4, $"forward {path}");
            }
        }

        // fuse_lora folds exactly the merged adapter; unfuse_lora restores every base weight bit-exactly.
        var baseWeights = stored.ToDictionary(p => p, p => ((LoraLayer)_unet.Layers[p]).Weight.detach().clone());
        Assert.Equal(new[] { name }, _component.FuseLora(adapterNames: new[] { name }));
        Assert.Contains(name, _component.GetMergedAdapters());
        foreach (var path in stored)
        {
            using var scope = NewDisposeScope();
            var delta = TensorAssert.Product(_fx.Golden($"merge/{name}/{path}.lora_A"), _fx.Golden($"merge/{name}/{path}.lora_B"));
            var fused = ((LoraLayer)_unet.Layers[path]).Weight;
            TensorAssert.Close(baseWeights[path].reshape(delta.shape) + delta, fused.reshape(delta.shape), 1e-5, $"fused {path}");
        }
        _component.UnfuseLora();
        Assert.Empty(_component.GetMergedAdapters());
        foreach (var path in stored) Assert.True(TensorAssert.Identical(baseWeights[path], ((LoraLayer)_unet.Layers[path]).Weight), $"unfuse {path}");
        foreach (var t in baseWeights.Values) t.Dispose();

        // save_lora_adapter writes r = lora_alpha = 12 and the merged factors; a fresh component reloads them.
        string file = _component.SaveLoraAdapter(_dir, name);
        using (var st = SafetensorsFile.Open(file))
        {
            Assert.Contains("lora_adapter_metadata", st.Header.Metadata.Keys);
            var meta = LoraSdk.Core.JsonValue.Parse(st.Header.Metadata["lora_adapter_metadata"]);
            Assert.Equal(12, meta["r"]!.AsInt64());
            Assert.Equal(12.0, meta["lora_alpha"]!.AsDouble());
            Assert.Equal(156 * 2, st.Header.Tensors.Count);
        }
        using var other = new SyntheticUnet(_fx);
        var reloaded = other.Component();
        reloaded.LoadLoraAdapter(file, null, "reloaded");
        Assert.Equal(156, reloaded.GetAdapterWeights("reloaded").Count);
        var original = _component.GetAdapterWeights(name).ToDictionary(kv => kv.Key, kv => (LowRankWeights)kv.Value);
        foreach (var (path, w) in reloaded.GetAdapterWeights("reloaded"))
        {
            Assert.True(TensorAssert.Identical(original[path].A, ((LowRankWeights)w).A) && TensorAssert.Identical(original[path].B, ((LowRankWeights)w).B), path);
            Assert.Equal(1.0, w.Scaling);
        }
        reloaded.UnloadLora();

        // set_adapters with a weight scales it like any adapter; delete_adapters removes it everywhere.
        _component.SetAdapterWeights(new[] { name, "a" }, new[] { AdapterWeight.Of(0.5), AdapterWeight.Of(1.0) });
        Assert.Equal(new[] { name, "a" }, _component.GetActiveAdapters());
        Assert.All(_component.GetAdapterWeights(name), kv => Assert.Equal(0.5, kv.Value.Scaling));
        _component.DeleteAdapters(new[] { name });
        Assert.DoesNotContain(name, _component.ListAdapters());
        Assert.All(_unet.Layers.Values, l => Assert.False(((LoraLayer)l).HasAdapter(name)));
    }
}
