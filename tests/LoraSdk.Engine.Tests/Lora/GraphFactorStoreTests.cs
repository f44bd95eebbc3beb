using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Engine.Tests.Gpu;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>
/// The flat factor store of a component pinned for CUDA graphs (docs/gpu-graphs.md, "After run 3"): every low-rank
/// layer runs ONE stacked product — A_cat (Σr, in) and B_cat (out, Σr) with each rank column's scale folded in — read
/// from one flat device tensor, whatever the number of adapters; the adapters' own A/B are views of it; a hotswap stages
/// the new factors per group of same-shaped layers and copies each group in at once; ahead of time (StageHotswap /
/// ApplyHotswap) it is one copy of an image of the whole flat tensor, or the per-group path when the image went stale. Checked on the CPU against an identical model in the normal (unpinned)
/// forward. Tolerance of pinned vs normal: 1e-6 relative (max|Δ| / max|normal|, fp32) — the same products, but the
/// normal forward applies a single adapter's scale as the GEMM's alpha and sums several adapters in another order, which
/// rounds differently. Hotswapped factors are compared bitwise with a fresh load.
/// </summary>
[Collection(CudaGraphCollection.Name)]
public sealed class GraphFactorStoreTests
{
    private const double Tolerance = 1e-6;

    private static readonly int[] Ranks = { 4, 2, 3, 4 };

    private static readonly double[] Weights = { 0.7, 0.8, -0.5, 1.3 };

    private sealed class Pair : IDisposable
    {
        public Pair()
        {
            Normal = new TinyModel();
            Pinned = new TinyModel();
            N = LoraTestData.Component(Normal);
            P = LoraTestData.Component(Pinned);
            (X, Image) = LoraTestData.Inputs();
        }

        public TinyModel Normal { get; }

        public TinyModel Pinned { get; }

        public LoraComponent N { get; }

        public LoraComponent P { get; }

        public Tensor X { get; }

        public Tensor Image { get; }

        public void Both(Action<LoraComponent> change)
        {
            change(N);
            change(P);
        }

        public double AssertClose(string step)
        {
            using var noGrad = no_grad();
            var (nl, nc) = Normal.Run(X, Image);
            var (pl, pc) = Pinned.Run(X, Image);
            using (nl) using (nc) using (pl) using (pc)
            {
                double r1 = LoraTestData.Relative(pl, nl), r2 = LoraTestData.Relative(pc, nc);
                Assert.True(r1 <= Tolerance, $"{step}: linear path rel {r1:E3} > {Tolerance:E1}");
                Assert.True(r2 <= Tolerance, $"{step}: conv path rel {r2:E3} > {Tolerance:E1}");
                Console.WriteLine($"store vs normal, {step}: rel {Math.Max(r1, r2):E2}");
                return Math.Max(r1, r2);
            }
        }

        public void Dispose()
        {
            N.UnloadLora();
            if (!P.IsGraphPinned) P.UnloadLora();
            Normal.Dispose();
            Pinned.Dispose();
            X.Dispose();
            Image.Dispose();
        }
    }

    private static IntPtr Storage(Tensor t) => t.storage<float>().data_ptr();

    private static GraphFactorStore OnlyStore(LoraComponent c) => Assert.Single(c.GraphState!.Stores);

    private static IEnumerable<LoraLayer> Layers(TinyModel m) => new LoraLayer[] { m.ProjInLayer, m.ProjOutLayer, m.Conv1Layer };

    private static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var eq = a.eq(b);
        using var all = eq.all();
        return all.item<bool>();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Pinned_layers_run_one_stacked_product_from_one_flat_buffer_and_follow_weight_and_scale_changes(int adapters)
    {
        using var p = new Pair();
        var names = Enumerable.Range(0, adapters).Select(i => "a" + i).ToArray();
        for (int i = 0; i < adapters; i++)
        {
            var definition = LoraTestData.Adapter(Ranks[i], 2 + i, 20 + i);
            p.Both(c => c.AddAdapter(names[i], definition));
        }
        p.Both(c => c.SetAdapters(names, Weights.Take(adapters).ToArray()));
        using var pin = p.P.PinForGraphs();
        var store = OnlyStore(p.P);
        IntPtr flat = Storage(store.Flat);
        int sumRank = Ranks.Take(adapters).Sum();
        foreach (var layer in Layers(p.Pinned))
        {
            var plan = layer.Adapters.GraphPlan!;
            Assert.Equal(GraphPlanKind.LowRank, plan.Kind);
            Assert.Same(store, plan.Store);
            // One product whatever the number of adapters: A_cat (Σr, in…) and the scaled B_cat (out, Σr…), both in the flat buffer.
            Assert.Equal(sumRank, plan.A.shape[0]);
            Assert.Equal(layer.OutFeatures, plan.B.shape[0]);
            Assert.Equal(sumRank, plan.B.shape[1]);
            Assert.Equal(flat, Storage(plan.A));
            Assert.Equal(flat, Storage(plan.B));
            foreach (var name in names)
            {
                var w = (LowRankWeights)layer.GetAdapter(name);
                Assert.Equal(flat, Storage(w.A));
                Assert.Equal(flat, Storage(w.B));
            }
        }
        // Layers of the same shape and slots share a group: proj_in (8→16), proj_out (16→8) and conv1 are three.
        Assert.Equal(3, store.GroupCount);

        p.AssertClose($"{adapters} adapter(s), weights {string.Join("/", Weights.Take(adapters))}");
        var changed = Enumerable.Range(0, adapters).Select(i => 0.25 + 0.3 * i).ToArray();
        p.Both(c => c.SetAdapters(names, changed));
        p.AssertClose("weights changed after pinning");
        using (p.N.ApplyRuntimeScale(0.5))
        using (p.P.ApplyRuntimeScale(0.5))
            p.AssertClose("runtime scale 0.5");
        p.AssertClose("runtime scale restored");
        p.Both(c => c.SetAdapters(new[] { names[^1] }, new[] { 1.7 }));
        p.AssertClose("only the last adapter active");
        p.Both(c => c.DisableLora());
        p.AssertClose("disabled");
        p.Both(c => c.EnableLora());
        p.AssertClose("enabled");
        Assert.Equal(flat, Storage(store.Flat));
        Assert.Same(store, OnlyStore(p.P));
    }

    [Fact]
    public void A_hotswap_after_pinning_is_one_copy_per_group_into_the_same_flat_buffer_and_equals_a_fresh_load()
    {
        using var p = new Pair();
        p.P.EnableLoraHotswap(8);
        p.P.AddAdapter("a", LoraTestData.Adapter(4, 8, 1));
        p.P.SetAdapters(new[] { "a" }, new[] { 0.6 });
        using var pin = p.P.PinForGraphs();
        var store = OnlyStore(p.P);
        IntPtr flat = Storage(store.Flat), scales = Storage(store.Scales.Values);

        // rank 6 ≤ 8 on proj_in and proj_out; conv1 is zero-filled.
        var swap = LoraTestData.Adapter(6, 3, 11, new[] { TinyModel.ProjIn, TinyModel.ProjOut });
        p.P.HotswapAdapter("a", swap);
        Assert.Equal(2 * store.GroupCount, store.LastHotswapCopies);  // one staged copy of A and one of B per group, none per layer
        Assert.Equal(flat, Storage(store.Flat));
        Assert.Equal(scales, Storage(store.Scales.Values));
        p.P.SetAdapters(new[] { "a" }, new[] { 0.6 });  // a hotswap resets the adapter's scaling to the new alpha / r (as PEFT)

        // The fresh load: the same file into hotswap-prepared storage of rank 8, on the twin model.
        p.N.EnableLoraHotswap(8);
        p.N.AddAdapter("a", swap);
        p.N.SetAdapters(new[] { "a" }, new[] { 0.6 });
        foreach (var path in new[] { TinyModel.ProjIn, TinyModel.ProjOut })
        {
            var pinned = (LowRankWeights)p.P.GetAdapterWeights("a").Single(kv => kv.Key == path).Value;
            var fresh = (LowRankWeights)p.N.GetAdapterWeights("a").Single(kv => kv.Key == path).Value;
            Assert.True(Same(pinned.A, fresh.A), $"{path}: A differs from a fresh load");
            Assert.True(Same(pinned.B, fresh.B), $"{path}: B differs from a fresh load");
            Assert.Equal(fresh.Scaling, pinned.Scaling);
        }
        var conv = (LowRankWeights)p.P.GetAdapterWeights("a").Single(kv => kv.Key == TinyModel.Conv1).Value;
        using (var absA = conv.A.abs().max()) Assert.Equal(0f, absA.item<float>());
        using (var absB = conv.B.abs().max()) Assert.Equal(0f, absB.item<float>());
        p.AssertClose("after the hotswap vs a fresh load");

        // Unpinning gives the adapter owned, contiguous factors with the swapped values.
        pin.Dispose();
        var after = (LowRankWeights)p.P.GetAdapterWeights("a").Single(kv => kv.Key == TinyModel.ProjIn).Value;
        var reference = (LowRankWeights)p.N.GetAdapterWeights("a").Single(kv => kv.Key == TinyModel.ProjIn).Value;
        Assert.True(after.A.is_contiguous() && after.B.is_contiguous());
        Assert.NotEqual(flat, Storage(after.A));
        Assert.True(Same(after.A, reference.A) && Same(after.B, reference.B));
        p.AssertClose("unpinned after the hotswap");
    }

    [Fact]
    public void With_several_pinned_adapters_a_hotswap_writes_only_its_columns_and_equals_the_unpinned_hotswap()
    {
        using var p = new Pair();
        p.Both(c => c.EnableLoraHotswap(6));
        p.Both(c => c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1)));
        p.Both(c => c.AddAdapter("b", LoraTestData.Adapter(5, 2, 2)));  // b keeps rank 5: only the first load is padded
        p.Both(c => c.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 }));
        using var pin = p.P.PinForGraphs();
        var store = OnlyStore(p.P);
        IntPtr flat = Storage(store.Flat);
        var aBefore = p.P.GetAdapterWeights("a").ToDictionary(kv => kv.Key, kv => LoraTestData.Hash(((LowRankWeights)kv.Value).A).Concat(LoraTestData.Hash(((LowRankWeights)kv.Value).B)).ToArray());

        var swap = LoraTestData.Adapter(3, 1, 12);
        p.P.HotswapAdapter("b", swap);
        Assert.Equal(2 * store.GroupCount, store.LastHotswapCopies);  // b's rows of A and columns of B, per group
        Assert.Equal(flat, Storage(store.Flat));
        foreach (var (path, w) in p.P.GetAdapterWeights("a"))
            Assert.Equal(aBefore[path], LoraTestData.Hash(((LowRankWeights)w).A).Concat(LoraTestData.Hash(((LowRankWeights)w).B)).ToArray());

        // The reference: the same hotswap without a pin (one copy per factor tensor into b's own rank-5 storage).
        p.N.HotswapAdapter("b", swap);
        foreach (var (path, w) in p.N.GetAdapterWeights("b"))
        {
            var pinned = (LowRankWeights)p.P.GetAdapterWeights("b").Single(kv => kv.Key == path).Value;
            Assert.Equal(5, pinned.TensorRank);
            Assert.True(Same(pinned.A, ((LowRankWeights)w).A), $"{path}: A of b differs from the unpinned hotswap");
            Assert.True(Same(pinned.B, ((LowRankWeights)w).B), $"{path}: B of b differs from the unpinned hotswap");
            Assert.Equal(((LowRankWeights)w).Scaling, pinned.Scaling);
        }
        p.AssertClose("a + b after hotswapping b");
    }

    [Fact]
    public void A_refused_hotswap_leaves_the_flat_buffer_and_the_scales_bit_identical()
    {
        using var p = new Pair();
        p.P.EnableLoraHotswap(4);
        p.P.AddAdapter("a", LoraTestData.Adapter(4, 8, 1, new[] { TinyModel.ProjIn, TinyModel.ProjOut }));
        p.P.AddAdapter("b", LoraTestData.Adapter(2, 2, 2, new[] { TinyModel.ProjIn }));
        p.P.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 });
        using var pin = p.P.PinForGraphs();
        var store = OnlyStore(p.P);
        IntPtr flat = Storage(store.Flat);
        using var before = store.Flat.clone();
        using var scalesBefore = store.Scales.Values.clone();

        var tooLarge = Assert.Throws<LoraException>(() => p.P.HotswapAdapter("a", LoraTestData.Adapter(6, 6, 3, new[] { TinyModel.ProjIn })));
        Assert.Equal(LoraErrorKind.HotswapRankTooLarge, tooLarge.Kind);
        var newLayer = Assert.Throws<LoraException>(() => p.P.HotswapAdapter("b", LoraTestData.Adapter(2, 2, 4)));
        Assert.Equal(LoraErrorKind.HotswapUnexpectedKeys, newLayer.Kind);
        var config = Assert.Throws<LoraException>(() => p.P.HotswapAdapter("a", LoraTestData.Adapter(4, 4, 5, new[] { TinyModel.ProjIn }, useRsLora: true)));
        Assert.Equal(LoraErrorKind.HotswapIncompatibleConfig, config.Kind);

        Assert.Equal(flat, Storage(store.Flat));
        Assert.True(Same(store.Flat, before), "a refused hotswap changed the flat factor buffer");
        Assert.True(Same(store.Scales.Values, scalesBefore), "a refused hotswap changed the scales");
    }

    [Fact]
    public void A_staged_hotswap_is_checked_ahead_applied_with_one_copy_reusable_and_refused_after_the_pin_ends()
    {
        using var p = new Pair();
        p.Both(c => c.EnableLoraHotswap(8));
        p.Both(c => c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1)));
        var pin = p.P.PinForGraphs();
        var store = OnlyStore(p.P);
        IntPtr flat = Storage(store.Flat);
        using var before = store.Flat.clone();

        var tooLarge = Assert.Throws<LoraException>(() => p.P.StageHotswap("a", LoraTestData.Adapter(9, 9, 3)));
        Assert.Equal(LoraErrorKind.HotswapRankTooLarge, tooLarge.Kind);
        var x = LoraTestData.Adapter(6, 3, 11, new[] { TinyModel.ProjIn, TinyModel.ProjOut });
        var y = LoraTestData.Adapter(8, 8, 12);
        using var sx = p.P.StageHotswap("a", x);
        using var sy = p.P.StageHotswap("a", y);
        Assert.True(Same(store.Flat, before), "staging wrote into the factor store");
        Assert.Equal("a", sx.AdapterName);
        Assert.True(sx.CanApply);

        foreach (var (staged, definition, step) in new[] { (sx, x, "staged x"), (sy, y, "staged y"), (sx, x, "staged x again") })
        {
            long writes = store.DeviceWrites, version = store.Version;
            var part = Assert.Single(staged.Staged.Stores);
            Assert.Null(store.ImageStaleReason(part));
            Assert.True(store.ImageScalesFit(part, 1.0));
            p.P.ApplyHotswap(staged);
            Assert.Equal(1, store.LastHotswapCopies);  // the image of the whole flat tensor, one copy
            Assert.Equal(writes + 1, store.DeviceWrites);  // and nothing else: no per-group copy, no recompute, no upload
            Assert.True(store.Version > version);
            AssertImageEqualsRecompute(store, "a", step);
            p.N.HotswapAdapter("a", definition);  // the reference: the same swap, unpinned
            foreach (var (path, w) in p.N.GetAdapterWeights("a"))
            {
                var pinned = (LowRankWeights)p.P.GetAdapterWeights("a").Single(kv => kv.Key == path).Value;
                Assert.True(Same(pinned.A, ((LowRankWeights)w).A), $"{step}, {path}: A differs from the unpinned hotswap");
                Assert.True(Same(pinned.B, ((LowRankWeights)w).B), $"{step}, {path}: B differs from the unpinned hotswap");
                Assert.Equal(w.Scaling, pinned.Scaling);
            }
            p.AssertClose(step);
        }
        Assert.Equal(flat, Storage(store.Flat));

        pin.Dispose();
        Assert.False(sx.CanApply);
        var stale = Assert.Throws<LoraException>(() => p.P.ApplyHotswap(sx));
        Assert.Equal(LoraErrorKind.GraphUnsupported, stale.Kind);
        Assert.Contains("has ended", stale.Message);
        var notPinned = Assert.Throws<LoraException>(() => p.P.StageHotswap("a", x));
        Assert.Equal(LoraErrorKind.GraphUnsupported, notPinned.Kind);
        p.AssertClose("unpinned after staged swaps");
    }

    /// <summary>
    /// The flat tensor after a one-copy apply equals what the full path computes from the same factors and the host
    /// scales (the scaled B recomputed by <see cref="GraphFactorStore.Update"/>): bitwise.
    /// </summary>
    private static void AssertImageEqualsRecompute(GraphFactorStore store, string adapter, string step)
    {
        using var applied = store.Flat.clone();
        store.Scales.Dirty = true;  // the host mirror is what the apply left: upload it and recompute every scaled B
        store.MarkFactorsChanged(adapter);
        store.Update();
        Assert.True(Same(store.Flat, applied), $"{step}: the applied image differs from the recomputed flat tensor");
        using var hostScales = tensor(store.Scales.Host, new[] { (long)store.Scales.Host.Length }, ScalarType.Float32);
        Assert.True(Same(store.Scales.Values, hostScales), $"{step}: the device scales differ from the host mirror");
    }

    [Fact]
    public void A_staged_hotswap_after_scale_changes_since_staging_takes_the_per_group_path_and_stays_exact()
    {
        using var p = new Pair();
        p.Both(c => c.EnableLoraHotswap(8));
        p.Both(c => c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1)));
        p.Both(c => c.AddAdapter("b", LoraTestData.Adapter(3, 2, 2)));
        p.Both(c => c.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 }));
        using var pin = p.P.PinForGraphs();
        var store = OnlyStore(p.P);
        IntPtr flat = Storage(store.Flat);
        var x = LoraTestData.Adapter(6, 3, 11, new[] { TinyModel.ProjIn, TinyModel.ProjOut });
        var y = LoraTestData.Adapter(8, 5, 12);
        using var sx = p.P.StageHotswap("a", x);
        using var sy = p.P.StageHotswap("a", y);

        // Another slot's weight changed since staging: the images hold b's old scaled B.
        p.Both(c => c.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 1.9 }));
        p.P.ApplyHotswap(sx);
        Assert.Equal(2 * store.GroupCount, store.LastHotswapCopies);  // a's slot per group from the image, then the refresh
        p.N.HotswapAdapter("a", x);
        p.AssertClose("x applied after b's weight changed");

        // A runtime scale set after staging changes every slot's scales (b's too): the per-group path.
        using (p.N.ApplyRuntimeScale(0.5))
        using (p.P.ApplyRuntimeScale(0.5))
        {
            p.P.ApplyHotswap(sy);
            Assert.Equal(2 * store.GroupCount, store.LastHotswapCopies);
            p.N.HotswapAdapter("a", y);
            p.AssertClose("y applied under a runtime scale set after staging");
        }
        p.AssertClose("runtime scale restored after y");

        // Only this adapter's own scale inputs changed (deactivated, b untouched): the image's factors are right, its
        // scaled B folded in the old scale — one copy, then the scaled B recomputed.
        using var sy2 = p.P.StageHotswap("a", y);
        p.Both(c => c.SetAdapters(new[] { "b" }, new[] { 1.9 }));
        long writes = store.DeviceWrites;
        p.P.ApplyHotswap(sy2);
        Assert.Equal(1, store.LastHotswapCopies);
        Assert.Equal(writes + 1 + 2 * store.GroupCount, store.DeviceWrites);  // the image, then the recompute (a's scales were already 0 on the device)
        p.N.HotswapAdapter("a", y);
        p.AssertClose("y applied after a was deactivated since staging");
        p.Both(c => c.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 1.9 }));
        p.AssertClose("a active again");

        // Nothing changed since the last apply except a itself: a fresh staging applies with one copy again.
        using var sx2 = p.P.StageHotswap("a", x);
        p.P.ApplyHotswap(sx2);
        Assert.Equal(1, store.LastHotswapCopies);
        AssertImageEqualsRecompute(store, "a", "x staged again");
        p.N.HotswapAdapter("a", x);
        p.AssertClose("x applied with one copy");
        // b's weights changed after that: the next apply of a swap staged before falls back, and is exact.
        p.Both(c => c.SetAdapters(new[] { "a", "b" }, new[] { 1.1, 0.3 }));
        p.P.ApplyHotswap(sy);
        Assert.Equal(2 * store.GroupCount, store.LastHotswapCopies);
        p.N.HotswapAdapter("a", y);
        p.AssertClose("y applied after weights changed");
        Assert.Equal(flat, Storage(store.Flat));
    }

    [Fact]
    public void A_refused_staged_apply_leaves_the_flat_buffer_and_the_scales_bit_identical()
    {
        using var p = new Pair();
        p.P.EnableLoraHotswap(8);
        p.P.AddAdapter("a", LoraTestData.Adapter(4, 8, 1));
        p.P.AddAdapter("b", LoraTestData.Adapter(3, 2, 2, new[] { TinyModel.ProjIn }));
        p.P.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 });
        var pin = p.P.PinForGraphs();
        var disposed = p.P.StageHotswap("a", LoraTestData.Adapter(6, 3, 11));
        disposed.Dispose();
        var stale = p.P.StageHotswap("a", LoraTestData.Adapter(8, 5, 12));
        pin.Dispose();
        using var repin = p.P.PinForGraphs();  // a new pin: a new store, the swap was staged for the old one
        var store = OnlyStore(p.P);
        IntPtr flat = Storage(store.Flat);
        using var before = store.Flat.clone();
        using var scalesBefore = store.Scales.Values.clone();
        var hostBefore = (float[])store.Scales.Host.Clone();
        long writes = store.DeviceWrites, version = store.Version;

        Assert.Throws<ObjectDisposedException>(() => p.P.ApplyHotswap(disposed));
        var ended = Assert.Throws<LoraException>(() => p.P.ApplyHotswap(stale));
        Assert.Equal(LoraErrorKind.GraphUnsupported, ended.Kind);
        using (var other = new TinyModel())
        {
            var q = LoraTestData.Component(other);
            q.EnableLoraHotswap(8);
            q.AddAdapter("a", LoraTestData.Adapter(4, 8, 1));
            var qPin = q.PinForGraphs();
            using (var foreign = q.StageHotswap("a", LoraTestData.Adapter(6, 3, 13)))
                Assert.Throws<ArgumentException>(() => p.P.ApplyHotswap(foreign));
            qPin.Dispose();
            q.UnloadLora();
        }
        stale.Dispose();

        Assert.Equal(flat, Storage(store.Flat));
        Assert.True(Same(store.Flat, before), "a refused apply changed the flat factor buffer");
        Assert.True(Same(store.Scales.Values, scalesBefore), "a refused apply changed the device scales");
        Assert.Equal(hostBefore, store.Scales.Host);
        Assert.Equal(writes, store.DeviceWrites);
        Assert.Equal(version, store.Version);
    }
}
