using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Engine.Tests.Gpu;
using LoraSdk.Gpu;
using LoraSdk.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>
/// LoRA under CUDA graphs on the CPU (issue 10 item 3): a component pinned for graphs runs its graph-stable forward
/// eagerly here, so it is compared with an identical model in the normal forward after every change the pin allows
/// (hotswap, SetAdapters weights and activation within the pin, runtime scale, a per-step schedule, disable/enable);
/// every buffer the pinned forward reads keeps its storage; refused changes change nothing; Release pins reset their
/// graphs. Tolerance of pinned vs normal (unfused): 1e-6 relative (max|Δ| / max|normal|; ≤ 8.9e-8 seen) — the same products, but the
/// scale is folded into a scaled copy of B (the flat factor store) instead of being the GEMM's alpha, which rounds differently;
/// materialized: bitwise (the same fold). Runs in the CUDA-graph collection: captures and the capture check are
/// process-wide.
/// </summary>
[Collection(CudaGraphCollection.Name)]
public sealed class GraphPinTests
{
    private const double Tolerance = 1e-6;

    /// <summary>Two identical tiny models: one normal, one pinned; every step is applied to both.</summary>
    private sealed class Twins : IDisposable
    {
        public Twins(LoraForwardMode mode = LoraForwardMode.Unfused)
        {
            Normal = new TinyModel();
            Pinned = new TinyModel();
            N = LoraTestData.Component(Normal);
            P = LoraTestData.Component(Pinned);
            N.ForwardMode = mode;
            P.ForwardMode = mode;
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

        /// <summary>Asserts the pinned model's outputs equal the normal model's within <paramref name="tolerance"/> (0: bitwise); returns the worst relative difference.</summary>
        public double AssertSame(string step, double tolerance = Tolerance)
        {
            using var noGrad = no_grad();
            var (nl, nc) = Normal.Run(X, Image);
            var (pl, pc) = Pinned.Run(X, Image);
            using (nl) using (nc) using (pl) using (pc)
            {
                double r1 = LoraTestData.Relative(pl, nl), r2 = LoraTestData.Relative(pc, nc);
                if (tolerance == 0)
                {
                    Assert.True(Same(pl, nl) && Same(pc, nc), $"{step}: pinned differs from normal (rel {r1:E3} / {r2:E3}), expected bitwise");
                }
                else
                {
                    Assert.True(r1 <= tolerance, $"{step}: linear path rel {r1:E3} > {tolerance:E1}");
                    Assert.True(r2 <= tolerance, $"{step}: conv path rel {r2:E3} > {tolerance:E1}");
                }
                return Math.Max(r1, r2);
            }
        }

        public void Dispose()
        {
            N.UnloadLora();
            if (!P.IsGraphPinned) P.UnloadLora(); // a pin left by a failed assertion: the models go anyway

            Normal.Dispose();
            Pinned.Dispose();
            X.Dispose();
            Image.Dispose();
        }
    }

    private static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var eq = a.eq(b);
        using var all = eq.all();
        return all.item<bool>();
    }

    /// <summary>Every tensor the pinned forward reads, by name, with its data pointer.</summary>
    private static Dictionary<string, IntPtr> Pointers(LoraComponent c)
    {
        var result = new Dictionary<string, IntPtr>();
        var state = c.GraphState ?? throw new InvalidOperationException("not pinned");
        int i = 0;
        foreach (var buffer in state.Buffers) result["scales" + i++] = buffer.Values.storage<float>().data_ptr();
        foreach (var layer in state.Layers)
        {
            var plan = layer.GraphPlan!;
            if (plan.Kind != GraphPlanKind.LowRank) continue;
            result[layer.ModulePath + ".A"] = plan.A.storage<float>().data_ptr();
            result[layer.ModulePath + ".B"] = plan.B.storage<float>().data_ptr();
            result[layer.ModulePath + ".scale"] = plan.Scale!.storage<float>().data_ptr();
        }
        foreach (var adapter in c.ListAdapters())
            foreach (var (path, w) in c.GetAdapterWeights(adapter))
            {
                result[$"{adapter}/{path}.A"] = ((LowRankWeights)w).A.storage<float>().data_ptr();
                result[$"{adapter}/{path}.B"] = ((LowRankWeights)w).B.storage<float>().data_ptr();
            }
        return result;
    }

    [Fact]
    public void Without_adapters_the_pinned_forward_is_the_base_forward_bit_for_bit()
    {
        using var t = new Twins();
        using var pin = t.P.PinForGraphs();
        Assert.True(t.P.IsGraphPinned);
        Assert.Empty(t.P.GraphPinnedAdapters);
        t.AssertSame("base", tolerance: 0);
    }

    [Fact]
    public void Pinned_forward_follows_hotswap_weights_activation_runtime_scale_and_a_schedule_in_place()
    {
        using var t = new Twins();
        t.Both(c => c.EnableLoraHotswap(8));
        t.Both(c => c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1)));
        t.Both(c => c.AddAdapter("b", LoraTestData.Adapter(2, 2, 2, new[] { TinyModel.ProjIn, TinyModel.Conv1 })));
        t.Both(c => c.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 }));
        using var pin = t.P.PinForGraphs();
        Assert.Equal(new[] { "a", "b" }, t.P.GraphPinnedAdapters);
        var pointers = Pointers(t.P);
        var worst = new List<(string, double)>();
        void Step(string name)
        {
            worst.Add((name, t.AssertSame(name)));
            Assert.Equal(pointers, Pointers(t.P));
        }

        Step("lora_a + lora_b (0.7, 0.8)");
        // A hotswap copies into the padded storage (rank 6 ≤ 8) and the stacked factors, in place.
        var swapA = LoraTestData.Adapter(6, 3, 11);
        t.Both(c => c.HotswapAdapter("a", swapA));
        Step("after hotswap of a (rank 6, alpha 3)");
        var swapB = LoraTestData.Adapter(2, 1, 12, new[] { TinyModel.ProjIn });
        t.Both(c => c.HotswapAdapter("b", swapB));
        Step("after hotswap of b (conv1 zero-filled)");
        t.Both(c => c.SetAdapters(new[] { "a", "b" }, new[] { 0.3, 1.2 }));
        Step("weights (0.3, 1.2)");
        using (var n = t.N.ApplyRuntimeScale(0.5))
        using (var p = t.P.ApplyRuntimeScale(0.5))
            Step("runtime scale 0.5");
        Step("runtime scale restored");
        t.Both(c => c.SetAdapters(new[] { "b" }, new[] { 0.9 }));
        Step("only b active (a runs at scale 0)");
        t.Both(c => c.SetAdapters(new[] { "b", "a" }, new[] { 1.0, 0.25 }));
        Step("b, a (another order)");
        for (int i = 0; i < 5; i++)
        {
            double w = 1.0 - 0.2 * i;
            t.Both(c => c.SetAdapters(new[] { "a", "b" }, new[] { w, 1 - w }));
            Step($"schedule step {i} (a {w:F1})");
        }
        t.Both(c => c.DisableLora());
        t.AssertSame("disabled", tolerance: 0);
        t.Both(c => c.EnableLora());
        Step("enabled again");
        foreach (var (name, rel) in worst) Console.WriteLine($"pinned vs normal, {name}: rel {rel:E2}");
    }

    [Fact]
    public void Materialized_under_a_pin_folds_in_place_refolds_on_change_and_equals_the_normal_fold_bitwise()
    {
        using var t = new Twins(LoraForwardMode.Materialized);
        t.Both(c => c.EnableLoraHotswap(8));
        t.Both(c => c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1)));
        t.Both(c => c.AddAdapter("b", LoraTestData.Adapter(2, 2, 2)));
        t.Both(c => c.SetAdapters(new[] { "a", "b" }, new[] { 0.7, 0.8 }));
        using var baseWeight = t.Pinned.ProjInLayer.Weight.detach().clone();
        IntPtr weightPointer = t.Pinned.ProjInLayer.Weight.storage<float>().data_ptr();
        using var pin = t.P.PinForGraphs();
        Assert.True(t.Pinned.ProjInLayer.IsMaterialized);
        Assert.Equal(GraphPlanKind.Folded, t.Pinned.ProjInLayer.Adapters.GraphPlan!.Kind);
        t.AssertSame("folded a + b", tolerance: 0);
        t.Both(c => c.HotswapAdapter("a", LoraTestData.Adapter(6, 3, 11)));
        t.AssertSame("after hotswap", tolerance: 0);
        t.Both(c => c.SetAdapters(new[] { "a" }, new[] { 0.4 }));
        t.AssertSame("only a, 0.4", tolerance: 0);
        using (t.N.ApplyRuntimeScale(2.0))
        using (t.P.ApplyRuntimeScale(2.0))
            t.AssertSame("runtime scale 2", tolerance: 0);
        t.Both(c => c.DisableLora());
        t.AssertSame("disabled", tolerance: 0);
        Assert.True(Same(t.Pinned.ProjInLayer.Weight, baseWeight), "disabled: the fold is undone bit for bit");
        t.Both(c => c.EnableLora());
        t.AssertSame("enabled", tolerance: 0);
        Assert.Equal(weightPointer, t.Pinned.ProjInLayer.Weight.storage<float>().data_ptr());
        pin.Dispose();
        Assert.True(Same(t.Pinned.ProjInLayer.Weight, baseWeight), "unpinned: the fold is undone bit for bit");
        t.AssertSame("unpinned, normal materialized forward again", tolerance: 0);
    }

    public static IEnumerable<object[]> RefusedChanges() => new[]
    {
        new object[] { "load a new adapter", (Action<LoraComponent>)(c => c.AddAdapter("c", LoraTestData.Adapter(2, 2, 3))) },
        new object[] { "activate an adapter outside the pin", (Action<LoraComponent>)(c => c.SetAdapters(new[] { "a", "z" })) },
        new object[] { "SetAdapter outside the pin", (Action<LoraComponent>)(c => c.SetAdapter(new[] { "z" })) },
        new object[] { "fuse", (Action<LoraComponent>)(c => c.FuseLora()) },
        new object[] { "delete a pinned adapter", (Action<LoraComponent>)(c => c.DeleteAdapters(new[] { "a" })) },
        new object[] { "unload", (Action<LoraComponent>)(c => c.UnloadLora()) },
        new object[] { "another forward mode", (Action<LoraComponent>)(c => c.ForwardMode = LoraForwardMode.Materialized) },
        new object[] { "Auto mode", (Action<LoraComponent>)(c => c.ForwardMode = LoraForwardMode.Auto) },
        new object[] { "move a pinned adapter", (Action<LoraComponent>)(c => c.SetLoraDevice(new[] { "a" }, CPU)) },
    };

    [Theory]
    [MemberData(nameof(RefusedChanges))]
    public void A_change_that_would_alter_the_captured_graph_is_refused_and_changes_nothing(string what, Action<LoraComponent> change)
    {
        using var t = new Twins();
        t.Both(c => c.EnableLoraHotswap(8));
        t.Both(c => c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1)));
        t.Both(c => c.AddAdapter("z", LoraTestData.Adapter(2, 2, 5)));
        t.Both(c => c.SetAdapters(new[] { "a" }, new[] { 0.6 }));
        using var pin = t.P.PinForGraphs();
        var before = LoraTestData.Checksums(t.P);
        var pointers = Pointers(t.P);
        var e = Assert.Throws<LoraException>(() => change(t.P));
        Assert.Equal(LoraErrorKind.GraphPinned, e.Kind);
        Assert.Equal(LoraSdk.Core.LoraSdkErrorCategory.InvalidOperation, e.Category);
        Assert.Equal("unet", e.Component);
        Assert.Contains("CUDA graphs", e.Message);
        Assert.Equal(before, LoraTestData.Checksums(t.P));
        Assert.Equal(pointers, Pointers(t.P));
        Assert.True(pin.IsActive, what);
        t.AssertSame($"after the refused {what}");
        Console.WriteLine($"{what}: {e.Message}");
    }

    [Fact]
    public void Hotswaps_that_would_reallocate_or_target_new_layers_are_refused_under_a_pin_and_change_nothing()
    {
        using var t = new Twins();
        t.Both(c => c.EnableLoraHotswap(4));
        t.Both(c => c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1, new[] { TinyModel.ProjIn, TinyModel.ProjOut })));
        using var pin = t.P.PinForGraphs();
        var before = LoraTestData.Checksums(t.P);
        var pointers = Pointers(t.P);
        var tooLarge = Assert.Throws<LoraException>(() => t.P.HotswapAdapter("a", LoraTestData.Adapter(6, 6, 2, new[] { TinyModel.ProjIn })));
        Assert.Equal(LoraErrorKind.HotswapRankTooLarge, tooLarge.Kind);
        var newLayer = Assert.Throws<LoraException>(() => t.P.HotswapAdapter("a", LoraTestData.Adapter(4, 4, 3)));
        Assert.Equal(LoraErrorKind.HotswapUnexpectedKeys, newLayer.Kind);
        Assert.Equal(before, LoraTestData.Checksums(t.P));
        Assert.Equal(pointers, Pointers(t.P));
        t.AssertSame("after the refused hotswaps");
    }

    [Fact]
    public void Pinning_refuses_auto_mode_an_active_adapter_left_out_and_unknown_adapters()
    {
        using var t = new Twins(LoraForwardMode.Auto);
        t.Both(c => c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1)));
        t.Both(c => c.AddAdapter("b", LoraTestData.Adapter(2, 2, 2)));
        var auto = Assert.Throws<LoraException>(() => t.P.PinForGraphs());
        Assert.Equal(LoraErrorKind.GraphUnsupported, auto.Kind);
        Assert.Contains("Auto", auto.Message);
        t.P.ForwardMode = LoraForwardMode.Unfused;
        t.P.SetAdapters(new[] { "a", "b" });
        var leftOut = Assert.Throws<LoraException>(() => t.P.PinForGraphs(new[] { "a" }));
        Assert.Equal(LoraErrorKind.GraphUnsupported, leftOut.Kind);
        Assert.Contains("'b'", leftOut.Message);
        var unknown = Assert.Throws<LoraException>(() => t.P.PinForGraphs(new[] { "a", "b", "nope" }));
        Assert.Equal(LoraErrorKind.UnknownAdapter, unknown.Kind);
        Assert.False(t.P.IsGraphPinned);
    }

    [Fact]
    public void A_pin_may_hold_inactive_adapters_which_run_at_scale_zero_until_activated()
    {
        using var t = new Twins();
        t.Both(c => c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1)));
        t.Both(c => c.AddAdapter("b", LoraTestData.Adapter(2, 2, 2)));
        t.Both(c => c.SetAdapters(new[] { "a" }));
        using var pin = t.P.PinForGraphs(new[] { "a", "b" });
        t.AssertSame("a active, b pinned at scale 0");
        t.Both(c => c.SetAdapters(new[] { "a", "b" }, new[] { 0.5, 1.5 }));
        t.AssertSame("b activated within the pin");
    }

    [Fact]
    public void Pins_share_the_state_and_the_last_one_ends_it()
    {
        using var t = new Twins();
        t.Both(c => c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1)));
        var first = t.P.PinForGraphs();
        var second = t.P.PinForGraphs();
        var state = t.P.GraphState;
        first.Dispose();
        Assert.True(t.P.IsGraphPinned);
        Assert.Same(state, t.P.GraphState);
        var other = Assert.Throws<LoraException>(() => t.P.PinForGraphs(Array.Empty<string>()));
        Assert.Equal(LoraErrorKind.GraphUnsupported, other.Kind);  // a is active
        second.Dispose();
        Assert.False(t.P.IsGraphPinned);
        Assert.Null(t.Pinned.ProjInLayer.Adapters.GraphPlan);
        t.Both(c => c.SetAdapters(new[] { "a" }, new[] { 0.3 }));
        t.AssertSame("unpinned: the normal forward", tolerance: 0);
    }

    [Fact]
    public void A_release_pin_lets_the_change_happen_resets_its_graphs_and_says_why()
    {
        using var t = new Twins();
        t.Both(c => c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1)));
        var backend = new RecordingGraphBackend { EmulatesReplay = true };
        var pin = t.P.PinForGraphs(policy: LoraGraphPinPolicy.Release);
        using var graph = CudaGraph.CaptureWith(backend, new[] { t.X }, i => new[] { t.Pinned.ProjInLayer.forward(i[0]) }, new CudaGraphOptions { WarmupRuns = 1 });
        pin.Bind(graph);
        graph.Replay();
        t.Both(c => c.AddAdapter("c", LoraTestData.Adapter(2, 2, 3)));
        Assert.False(pin.IsActive);
        Assert.Contains("adds adapter 'c'", pin.ReleaseReason);
        Assert.False(t.P.IsGraphPinned);
        Assert.False(graph.IsCaptured);
        var e = Assert.Throws<CudaGraphException>(() => graph.Replay());
        Assert.Equal(CudaGraphErrorKind.NotCaptured, e.Kind);
        t.AssertSame("after the release, normal forward with c", tolerance: 0);
        Assert.Throws<InvalidOperationException>(() => pin.Bind(graph));
        pin.Dispose();
    }

    [Fact]
    public void A_refuse_pin_wins_over_a_release_pin()
    {
        using var t = new Twins();
        t.Both(c => c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1)));
        using var release = t.P.PinForGraphs(policy: LoraGraphPinPolicy.Release);
        using var refuse = t.P.PinForGraphs();
        var e = Assert.Throws<LoraException>(() => t.P.FuseLora());
        Assert.Equal(LoraErrorKind.GraphPinned, e.Kind);
        Assert.True(release.IsActive);
        Assert.Empty(t.P.GetMergedAdapters());
    }

    [Fact]
    public void Capturing_active_adapters_without_a_pin_is_refused_and_a_pinned_capture_replays_changes()
    {
        using var t = new Twins();
        t.Both(c => c.EnableLoraHotswap(8));
        t.Both(c => c.AddAdapter("a", LoraTestData.Adapter(4, 8, 1)));
        var backend = new RecordingGraphBackend { EmulatesReplay = true };
        var options = new CudaGraphOptions { WarmupRuns = 1 };
        var unpinned = Assert.Throws<LoraException>(() =>
            CudaGraph.CaptureWith(backend, new[] { t.X }, i => new[] { t.Pinned.ProjInLayer.forward(i[0]) }, options));
        Assert.Equal(LoraErrorKind.GraphNotPinned, unpinned.Kind);
        Assert.Contains(TinyModel.ProjIn, unpinned.Message);
        Assert.Contains("capture_abort", backend.Calls);
        Assert.False(CudaGraph.IsCaptureUnderway);

        using var pin = t.P.PinForGraphs();
        bool checkedDuringCapture = false;
        using var graph = CudaGraph.CaptureWith(backend, new[] { t.X }, i =>
        {
            if (CudaGraph.IsCaptureUnderway)
            {
                // Inside the captured function LoRA state cannot change (the capture would record or miss it).
                var during = Assert.Throws<LoraException>(() => t.P.SetAdapters(new[] { "a" }, new[] { 0.1 }));
                Assert.Equal(LoraErrorKind.GraphCaptureUnderway, during.Kind);
                Assert.Throws<LoraException>(() => t.P.ApplyRuntimeScale(0.5));
                Assert.Throws<LoraException>(() => t.P.HotswapAdapter("a", LoraTestData.Adapter(4, 4, 9)));
                Assert.Throws<LoraException>(() => pin.Dispose());
                checkedDuringCapture = true;
            }
            return new[] { t.Pinned.ProjInLayer.forward(i[0]) };
        }, options);
        Assert.True(checkedDuringCapture);
        pin.Bind(graph);
        t.Both(c => c.HotswapAdapter("a", LoraTestData.Adapter(5, 2, 13)));
        t.Both(c => c.SetAdapters(new[] { "a" }, new[] { 0.45 }));
        graph.Replay();
        using var expected = t.Normal.ProjInLayer.forward(t.X);
        double rel = LoraTestData.Relative(graph.Output, expected);
        Assert.True(rel <= Tolerance, $"replay after hotswap + weight: rel {rel:E3}");
        Assert.Equal(1, graph.CaptureCount);
    }
}
