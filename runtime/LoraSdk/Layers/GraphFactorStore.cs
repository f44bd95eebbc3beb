using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// The LoRA factors of every low-rank pinned layer of one component on one device and dtype, in ONE flat device tensor
/// (docs/gpu-graphs.md, "After run 3"). Layers with the same shape and the same pinned slots (adapter names and stored
/// ranks) form a group, stored as three dense blocks of the flat tensor:
/// <list type="bullet">
/// <item>A: (L, Σr, in·kh·kw) — layer i's stacked A is row block i, contiguous, the GEMM operand of <c>h = x·Aᵀ</c>;</item>
/// <item>B: (out, L, Σr), unscaled — layer i's stacked B is [:, i, :]; adapter k's own B is its column block there.
/// This order makes a hotswap's source of a group one <c>cat</c> of the new (out, r) factors along dim 1;</item>
/// <item>B scaled: (L, out, Σr) — B with each rank column multiplied by its effective scale (adapter weight × alpha/r ×
/// runtime scale, 0 when inactive or disabled), the operand of <c>y += h·B_scaledᵀ</c>.</item>
/// </list>
/// The A and B blocks of all groups come first (the factor region), then the scaled blocks. Every pinned adapter's
/// <see cref="LowRankWeights.A"/> / <see cref="LowRankWeights.B"/> is a view into the factor region while the store
/// lives, so a hotswap writes one place: per group it stages the new factors (zero-padded to the stored rank,
/// zero-filled where the new weights lack a layer) with one <c>cat</c> of the A and one of the B factors — no per-layer
/// work — and copies each in with one <c>copy_</c>. The per-rank-column scales live in a float32
/// <see cref="GraphScaleBuffer"/> laid out like the groups' rank columns; after a scale or factor change
/// <see cref="Update"/> uploads them (one host-to-device copy) and recomputes every group's scaled B in place (a copy and
/// a broadcast multiply per group), outside any graph. A staged hotswap (<see cref="Stage"/> with the post-swap
/// scalings) also carries an image of the whole flat tensor, applied with one copy (<see cref="CopyImage"/>) while the
/// slot versions say nothing else changed. Nothing is reallocated while the store lives;
/// <see cref="Dispose"/> gives the adapters back owned, contiguous factors.
/// </summary>
internal sealed class GraphFactorStore : IDisposable
{
    private readonly List<Group> _groups = new List<Group>();
    private readonly Dictionary<string, Group> _byKey = new Dictionary<string, Group>(StringComparer.Ordinal);
    private readonly Dictionary<LayerAdapters, (Group Group, int Index)> _entries = new Dictionary<LayerAdapters, (Group, int)>();
    private readonly List<LowRankWeights> _aliased = new List<LowRankWeights>();
    private readonly Dictionary<string, long> _slotVersions = new Dictionary<string, long>(StringComparer.Ordinal);
    private Tensor? _flat;
    private bool _scaledStale = true;
    private long _clock;

    public GraphFactorStore(Device device, ScalarType dtype)
    {
        Device = device;
        DType = dtype;
        Scales = new GraphScaleBuffer(device);
    }

    public Device Device { get; }

    public ScalarType DType { get; }

    /// <summary>The effective scale of every rank column (float32; host mirror + device tensor).</summary>
    public GraphScaleBuffer Scales { get; }

    /// <summary>The flat device tensor (factor region, then the scaled B blocks).</summary>
    public Tensor Flat => _flat ?? throw new InvalidOperationException("the factor store is not allocated");

    /// <summary>Number of groups (distinct layer shape × pinned slots).</summary>
    public int GroupCount => _groups.Count;

    /// <summary>
    /// The device copies the last <see cref="Apply"/> or <see cref="CopyImage"/> issued into the flat tensor (one per
    /// group and factor, or ONE for a staged image).
    /// </summary>
    public int LastHotswapCopies { get; private set; }

    /// <summary>
    /// Every device write the store has issued into the flat tensor or the scale buffer (copies, scaled-B recomputes,
    /// scale uploads; tests count what an apply costs).
    /// </summary>
    public long DeviceWrites { get; private set; }

    /// <summary>
    /// The store's version: raised by every change that writes the flat tensor or the scale buffer (weights, runtime
    /// scale, schedules, enable/disable, hotswaps and applies). Each pinned adapter (slot) also has its own version (the
    /// value of this counter when its factors or scales last changed), which a staged image checks for the slots it
    /// does not replace.
    /// </summary>
    public long Version => _clock;

    /// <summary>The factors or the scales of slot <paramref name="adapterName"/> changed (or are about to be written).</summary>
    public void MarkSlotChanged(string adapterName) => _slotVersions[adapterName] = ++_clock;

    /// <summary>Registers a low-rank plan of <paramref name="layer"/> (before <see cref="Allocate"/>).</summary>
    public void Register(LayerAdapters layer, LayerGraphPlan plan, long outFeatures)
    {
        if (_flat is not null) throw new InvalidOperationException("the factor store is already allocated");
        var first = plan.Slots[0];
        long width = first.A.numel() / first.TensorRank;
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string key = string.Join("|", new[] { width.ToString(inv), outFeatures.ToString(inv), first.A.dim().ToString(inv) }
            .Concat(plan.Slots.Select(s => s.AdapterName + ":" + s.TensorRank.ToString(inv))));
        if (!_byKey.TryGetValue(key, out var group))
        {
            group = new Group(width, outFeatures, plan.Slots.Select(s => (s.AdapterName, (long)s.TensorRank)).ToArray(), plan.Rank);
            _byKey.Add(key, group);
            _groups.Add(group);
        }
        _entries.Add(layer, (group, group.Layers.Count));
        foreach (var slot in plan.Slots) _slotVersions[slot.AdapterName] = 0;
        group.Layers.Add((layer, plan));
        plan.Store = this;
    }

    /// <summary>
    /// Allocates the flat tensor and the scale buffer, copies every registered adapter's factors in, makes the adapters'
    /// A/B views of it and gives every plan its views (stacked A, scaled B, scales).
    /// </summary>
    public void Allocate()
    {
        if (_flat is not null) return;
        long offset = 0;
        foreach (var g in _groups) { g.AOffset = offset; offset += g.Layers.Count * g.SumRank * g.Width; }
        foreach (var g in _groups) { g.BOffset = offset; offset += g.Layers.Count * g.Out * g.SumRank; }
        foreach (var g in _groups) { g.ScaledOffset = offset; offset += g.Layers.Count * g.Out * g.SumRank; }
        foreach (var g in _groups) g.ScaleOffset = Scales.Reserve(g.Layers.Count * g.SumRank);
        using var noGrad = torch.no_grad();
        _flat = torch.zeros(Math.Max(1, offset), DType, Device).DetachFromDisposeScope();
        Scales.Allocate();
        foreach (var g in _groups)
        {
            long l = g.Layers.Count;
            g.A = Block(_flat, g.AOffset, l, g.SumRank, g.Width);
            g.B = Block(_flat, g.BOffset, g.Out, l, g.SumRank);
            g.Scaled = Block(_flat, g.ScaledOffset, l, g.Out, g.SumRank);
            g.Scale = Block(Scales.Values, g.ScaleOffset, l, 1, g.SumRank);
            for (int i = 0; i < g.Layers.Count; i++)
            {
                var (layer, plan) = g.Layers[i];
                using var scope = torch.NewDisposeScope();
                var aBlock = g.A[i];
                var bBlock = g.B.select(1, i);
                for (int k = 0; k < plan.Slots.Length; k++)
                {
                    var w = plan.Slots[k];
                    long r = w.TensorRank, start = plan.Offsets[k];
                    var aView = aBlock.narrow(0, start, r);
                    var bView = bBlock.narrow(1, start, r);
                    aView.copy_(w.A.reshape(r, g.Width));
                    bView.copy_(w.B.reshape(g.Out, r));
                    var newA = aView.view(w.A.shape).DetachFromDisposeScope();
                    var newB = (w.B.dim() == 4 ? bView.unsqueeze(-1).unsqueeze(-1) : bView).DetachFromDisposeScope();
                    w.ReplaceFactors(newA, newB);
                    _aliased.Add(w);
                }
                var aShape = (long[])plan.Slots[0].A.shape.Clone();
                aShape[0] = plan.Rank;
                plan.A = aBlock.view(aShape).DetachFromDisposeScope();
                var scaled = g.Scaled[i];
                plan.B = (aShape.Length == 4 ? scaled.unsqueeze(-1).unsqueeze(-1) : scaled).DetachFromDisposeScope();
                plan.ScaleOffset = g.ScaleOffset + i * g.SumRank;
                plan.Scale = Scales.View(plan.ScaleOffset, plan.Rank);
            }
        }
        _scaledStale = true;
    }

    /// <summary>A (d0, d1, d2) view of d0·d1·d2 elements of <paramref name="flat"/> at <paramref name="offset"/>.</summary>
    private static Tensor Block(Tensor flat, long offset, long d0, long d1, long d2)
    {
        using var slice = flat.narrow(0, offset, d0 * d1 * d2);
        return slice.view(d0, d1, d2).DetachFromDisposeScope();
    }

    /// <summary>The factors of adapter <paramref name="adapterName"/> changed (a hotswap): the scaled B must be recomputed.</summary>
    public void MarkFactorsChanged(string adapterName)
    {
        _scaledStale = true;
        MarkSlotChanged(adapterName);
    }

    /// <summary>
    /// Uploads changed scales (one host-to-device copy) and, when scales or factors changed, recomputes every group's
    /// scaled B in place: <c>B_scaled = B · scale</c> per rank column (a copy and a broadcast multiply per group), in the
    /// factors' dtype with float32 scales. Outside any capture; ordered on the stream before the next replay.
    /// </summary>
    public void Update()
    {
        if (_flat is null) return;
        if (!Scales.Dirty && !_scaledStale) return;
        if (Scales.Upload()) DeviceWrites++;
        using var noGrad = torch.no_grad();
        foreach (var g in _groups)
        {
            using var unscaled = g.B!.permute(1, 0, 2);
            g.Scaled!.copy_(unscaled);
            g.Scaled.mul_(g.Scale!);
            DeviceWrites += 2;
        }
        _scaledStale = false;
        _clock++;
    }

    /// <summary>True when <paramref name="layer"/>'s plan reads this store and holds adapter <paramref name="adapterName"/>.</summary>
    public bool Holds(LayerAdapters layer, string adapterName) =>
        _entries.TryGetValue(layer, out var e) && e.Group.SlotIndex(adapterName) >= 0;

    /// <summary>
    /// Checks a <see cref="Hotswap"/> without changing anything: every layer of the store holding
    /// <paramref name="adapterName"/> has exactly one source (new factors or zero fill) and its factors fit the stored
    /// rank and shape. Returns the groups (and slot) the swap writes.
    /// </summary>
    /// <exception cref="InvalidOperationException">A source is missing, doubled or does not fit.</exception>
    public List<(Group Group, int Slot)> CheckHotswap(string adapterName, IReadOnlyDictionary<LayerAdapters, (Tensor A, Tensor B)> modules, IReadOnlyCollection<LayerAdapters> zeroFill)
    {
        var zero = new HashSet<LayerAdapters>(zeroFill);
        var parts = new List<(Group Group, int Slot)>();
        foreach (var g in _groups)
        {
            int k = g.SlotIndex(adapterName);
            if (k < 0) continue;
            long r = g.Slots[k].Rank;
            foreach (var (layer, _) in g.Layers)
            {
                bool has = modules.TryGetValue(layer, out var m);
                if (has == zero.Contains(layer))
                    throw new InvalidOperationException($"hotswap of '{adapterName}': layer '{layer.ModulePath}' needs exactly one source (new factors or zero fill)");
                if (!has) continue;
                long[] sa = m.A.shape, sb = m.B.shape;
                if (sa[0] > r || sb.Length < 2 || sa[0] != sb[1] || Numel(sa) != sa[0] * g.Width || Numel(sb) != g.Out * sb[1] || sa.Length != sb.Length)
                    throw new InvalidOperationException($"hotswap of '{adapterName}': layer '{layer.ModulePath}' factors [{string.Join(", ", sa)}] / [{string.Join(", ", sb)}] do not fit the stored rank {r}");
            }
            parts.Add((g, k));
        }
        return parts;
    }

    /// <summary>
    /// Writes new factors of <paramref name="adapterName"/> into the store: for every layer of the store that holds the
    /// adapter, its new A (r, …) and B (out, r[, 1, 1]) from <paramref name="modules"/> zero-padded to the stored rank,
    /// or zeros when the layer is in <paramref name="zeroFill"/>. Everything is checked first (each such layer has exactly
    /// one source, ranks fit, shapes match): a refusal changes nothing. The sources are staged in one tensor in the
    /// factor region's order and copied in with one <c>copy_</c> when the adapter is the store's only slot (else one per
    /// group and factor). The caller then refreshes scales (<see cref="Update"/> recomputes the scaled B).
    /// </summary>
    public void Hotswap(string adapterName, IReadOnlyDictionary<LayerAdapters, (Tensor A, Tensor B)> modules, IReadOnlyCollection<LayerAdapters> zeroFill)
    {
        using var staged = Stage(adapterName, modules, zeroFill);
        Apply(staged);
    }

    /// <summary>
    /// The first half of <see cref="Hotswap"/>: checks the sources and gathers them per group in the store's layout
    /// (A: (L, r, in·kh·kw), B: (out, L, r)); writes nothing to the store. With <paramref name="newScalings"/> (a staged
    /// hotswap: each layer's scaling after the swap, absent for zero-filled layers, which keep theirs) it also builds
    /// the IMAGE: a complete replacement of the flat tensor as the swap will leave it — every group's A and B with the
    /// new factors in the adapter's slot and the other slots' current factors, and every scaled B recomputed with the
    /// scales the swap will leave (the current ones, the adapter's columns at its new scaling × the runtime scale) by
    /// the same kernels <see cref="Update"/> runs — plus the host mirror of those scales and the slot versions it was
    /// built from. The image is a full copy of the flat tensor, held until the staged factors are disposed. The result
    /// can be applied any number of times while this store lives.
    /// </summary>
    public StagedFactors Stage(string adapterName, IReadOnlyDictionary<LayerAdapters, (Tensor A, Tensor B)> modules, IReadOnlyCollection<LayerAdapters> zeroFill,
        IReadOnlyDictionary<LayerAdapters, double>? newScalings = null, double runtimeScale = 1.0)
    {
        var parts = CheckHotswap(adapterName, modules, zeroFill);
        var staged = new StagedFactors(this, adapterName);
        if (parts.Count == 0) return staged;
        long maxPiece = 0;
        foreach (var (g, k) in parts) maxPiece = Math.Max(maxPiece, Math.Max(g.Slots[k].Rank * g.Width, g.Out * g.Slots[k].Rank));

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        Tensor? zeros = null;
        Tensor Zeros(long[] shape)  // a zero block of this shape, a view of one shared zero tensor
        {
            zeros ??= torch.zeros(maxPiece, DType, Device);
            long n = 1;
            foreach (long d in shape) n *= d;
            return zeros.narrow(0, 0, n).view(shape);
        }
        static long[] With(long[] shape, int dim, long size)
        {
            shape[dim] = size;
            return shape;
        }

        try
        {
            foreach (var (g, k) in parts)
            {
                long r = g.Slots[k].Rank, l = g.Layers.Count;
                var aPieces = new List<Tensor>(g.Layers.Count);
                var bPieces = new List<Tensor>(g.Layers.Count);
                foreach (var (layer, plan) in g.Layers)
                {
                    var w = plan.Slots[k];
                    if (!modules.TryGetValue(layer, out var m))
                    {
                        aPieces.Add(Zeros(With(w.A.shape, 0, r)));
                        bPieces.Add(Zeros(With(w.B.shape, 1, r)));
                        continue;
                    }
                    aPieces.Add(m.A);
                    bPieces.Add(m.B);
                    long rNew = m.A.shape[0];
                    if (rNew < r)
                    {
                        // A smaller rank is zero-padded to the stored rank (only then is there a per-layer tensor).
                        aPieces.Add(Zeros(With(w.A.shape, 0, r - rNew)));
                        bPieces.Add(Zeros(With(w.B.shape, 1, r - rNew)));
                    }
                }
                // A: (L·r, in[, kh, kw]) rows in layer order; B: (out, L·r[, 1, 1]) — exactly the (out, L, r) block.
                var a = torch.cat(aPieces, 0);
                var b = torch.cat(bPieces, 1);
                if (a.dtype != DType) a = a.to(DType);
                if (b.dtype != DType) b = b.to(DType);
                if (a.numel() != l * r * g.Width || b.numel() != l * r * g.Out)
                    throw new InvalidOperationException($"hotswap of '{adapterName}': the staged factors of a group have {a.numel()} / {b.numel()} elements, expected {l * r * g.Width} / {l * r * g.Out}");
                staged.Parts.Add((g, k, a.view(l, r, g.Width).DetachFromDisposeScope(), b.view(g.Out, l, r).DetachFromDisposeScope()));
            }
            if (newScalings is not null) BuildImage(staged, newScalings, runtimeScale);
            return staged;
        }
        catch
        {
            staged.Dispose();
            throw;
        }
    }

    /// <summary>Builds <paramref name="staged"/>'s image of the flat tensor (see <see cref="Stage"/>); its parts become views of it.</summary>
    private void BuildImage(StagedFactors staged, IReadOnlyDictionary<LayerAdapters, double> newScalings, double runtimeScale)
    {
        var image = _flat!.clone();
        var parts = new List<(Group Group, int Slot, Tensor A, Tensor B)>(staged.Parts.Count);
        foreach (var (g, k, a, b) in staged.Parts)
        {
            long r = g.Slots[k].Rank, l = g.Layers.Count;
            using var imageA = Block(image, g.AOffset, l, g.SumRank, g.Width);
            using var imageB = Block(image, g.BOffset, g.Out, l, g.SumRank);
            var slotA = imageA.narrow(1, g.SlotOffset(k), r).DetachFromDisposeScope();
            var slotB = imageB.narrow(2, g.SlotOffset(k), r).DetachFromDisposeScope();
            slotA.copy_(a);
            slotB.copy_(b);
            a.Dispose();
            b.Dispose();
            parts.Add((g, k, slotA, slotB));
        }
        staged.Parts.Clear();
        staged.Parts.AddRange(parts);

        // The scales the swap leaves: the current mirror, the adapter's columns at the scale it will run at.
        var mirror = (float[])Scales.Host.Clone();
        foreach (var (g, k, _, _) in staged.Parts)
        {
            foreach (var (layer, plan) in g.Layers)
            {
                var w = plan.Slots[k];
                double? scaling = newScalings.TryGetValue(layer, out var v) ? v : null;
                double scale = layer.GraphScaleFor(w, scaling ?? w.Scaling, runtimeScale);
                Array.Fill(mirror, (float)scale, (int)(plan.ScaleOffset + plan.Offsets[k]), (int)w.TensorRank);
                staged.Layers.Add(new StagedLayer(layer, plan, k, scaling, scale));
            }
        }
        using var hostScales = torch.tensor(mirror, new[] { (long)mirror.Length }, ScalarType.Float32);
        using var scales = hostScales.to(Device);
        foreach (var g in _groups)
        {
            long l = g.Layers.Count;
            using var imageB = Block(image, g.BOffset, g.Out, l, g.SumRank);
            using var imageScaled = Block(image, g.ScaledOffset, l, g.Out, g.SumRank);
            using var scale = Block(scales, g.ScaleOffset, l, 1, g.SumRank);
            using var unscaled = imageB.permute(1, 0, 2);
            imageScaled.copy_(unscaled);
            imageScaled.mul_(scale);
        }
        staged.Image = image.DetachFromDisposeScope();
        staged.Mirror = mirror;
        staged.Versions = new Dictionary<string, long>(_slotVersions, StringComparer.Ordinal);
    }

    /// <summary>
    /// Why <paramref name="staged"/>'s image no longer holds the factors its swap would leave, or null: it must have been
    /// built for this store's layout with nothing pending, and no other slot's factors or scales may have changed since
    /// (slot versions). Host state only, O(slots); changes nothing.
    /// </summary>
    public string? ImageStaleReason(StagedFactors staged)
    {
        if (staged.Image is null) return "staged without an image";
        if (_flat is null || !ReferenceEquals(staged.Store, this) || staged.Image.numel() != _flat.numel()) return "staged for another store layout";
        if (_scaledStale || Scales.Dirty || staged.Mirror!.Length != Scales.Host.Length) return "the store has a pending refresh";
        foreach (var kv in _slotVersions)
        {
            if (string.Equals(kv.Key, staged.AdapterName, StringComparison.Ordinal)) continue;
            if (!staged.Versions!.TryGetValue(kv.Key, out long v) || v != kv.Value) return $"adapter '{kv.Key}' changed since staging";
        }
        return null;
    }

    /// <summary>
    /// True when every layer of the adapter with new factors would run at the scale the image folded into its scaled B
    /// (active set, disable state and runtime scale unchanged since staging). A zero-filled layer's scaled B is zero at
    /// any scale; its scale is taken as it is at apply time. Host state only, O(layers); changes nothing.
    /// </summary>
    public bool ImageScalesFit(StagedFactors staged, double runtimeScale)
    {
        foreach (var x in staged.Layers)
        {
            if (x.NewScaling is not double scaling) continue;
            var w = x.Plan.Slots[x.Slot];
            if (!x.Layer.GraphScaleFor(w, scaling, runtimeScale).Equals(x.Scale)) return false;
        }
        return true;
    }

    /// <summary>
    /// Copies a current image (<see cref="ImageStaleReason"/> null) over the flat tensor: ONE device copy. The factor
    /// region is then exactly what the swap leaves; the scaled B is too when <see cref="ImageScalesFit"/> (then call
    /// <see cref="TakeImageScales"/>), else the caller marks the factors changed and refreshes.
    /// </summary>
    public void CopyImage(StagedFactors staged)
    {
        using (torch.no_grad()) _flat!.copy_(staged.Image!);
        LastHotswapCopies = 1;
        DeviceWrites++;
        MarkSlotChanged(staged.AdapterName);
    }

    /// <summary>
    /// After <see cref="CopyImage"/> of an image whose scales fit: the host mirror of the scales becomes the image's
    /// (its device copy follows at the next recompute: nothing reads it before) and the plans record the scales.
    /// </summary>
    public void TakeImageScales(StagedFactors staged, double runtimeScale)
    {
        Array.Copy(staged.Mirror!, Scales.Host, staged.Mirror!.Length);
        Scales.DeviceStale = true;
        foreach (var x in staged.Layers)
        {
            double scale = x.Scale;
            if (x.NewScaling is null)
            {
                // zero-filled: keeps its scaling, runs at what a refresh would write now (its B is zero either way)
                var w = x.Plan.Slots[x.Slot];
                scale = x.Layer.GraphScaleFor(w, w.Scaling, runtimeScale);
                Array.Fill(Scales.Host, (float)scale, (int)(x.Plan.ScaleOffset + x.Plan.Offsets[x.Slot]), (int)w.TensorRank);
            }
            x.Plan.Scales[x.Slot] = scale;
        }
    }

    /// <summary>After <see cref="TakeImageScales"/> and the adapters' factor versions moved on: the plans record them, so no refresh recomputes.</summary>
    public void SettleImage(StagedFactors staged)
    {
        foreach (var x in staged.Layers) x.Plan.FactorVersions[x.Slot] = x.Plan.Slots[x.Slot].FactorVersion;
    }

    /// <summary>
    /// Writes staged factors into the store: one <c>copy_</c> per group and factor (the whole block when the adapter is
    /// the group's only slot, else its rows of A / columns of B), then marks the scaled B stale.
    /// </summary>
    public void Apply(StagedFactors staged)
    {
        if (!ReferenceEquals(staged.Store, this) || _flat is null) throw new InvalidOperationException("the staged factors belong to another factor store");
        using var noGrad = torch.no_grad();
        LastHotswapCopies = 0;
        foreach (var (g, k, a, b) in staged.Parts)
        {
            long r = g.Slots[k].Rank;
            bool sole = g.Slots.Length == 1;
            using var aTarget = sole ? g.A!.alias() : g.A!.narrow(1, g.SlotOffset(k), r);
            using var bTarget = sole ? g.B!.alias() : g.B!.narrow(2, g.SlotOffset(k), r);
            aTarget.copy_(a);
            bTarget.copy_(b);
            LastHotswapCopies += 2;
            DeviceWrites += 2;
        }
        _scaledStale = true;
        MarkSlotChanged(staged.AdapterName);
    }

    /// <summary>One layer of a staged image: its slot, its scaling after the swap (null: unchanged) and the scale folded in.</summary>
    internal readonly struct StagedLayer
    {
        public StagedLayer(LayerAdapters layer, LayerGraphPlan plan, int slot, double? newScaling, double scale)
        {
            Layer = layer;
            Plan = plan;
            Slot = slot;
            NewScaling = newScaling;
            Scale = scale;
        }

        public LayerAdapters Layer { get; }

        public LayerGraphPlan Plan { get; }

        public int Slot { get; }

        public double? NewScaling { get; }

        public double Scale { get; }
    }

    /// <summary>
    /// One adapter's new factors gathered per group in a store's layout (A: (L, r, in…), B: (out, L, r)), and for a
    /// staged hotswap the image of the whole flat tensor they are views of (see <see cref="Stage"/>).
    /// </summary>
    internal sealed class StagedFactors : IDisposable
    {
        public StagedFactors(GraphFactorStore store, string adapterName)
        {
            Store = store;
            AdapterName = adapterName;
        }

        public GraphFactorStore Store { get; }

        public string AdapterName { get; }

        public List<(Group Group, int Slot, Tensor A, Tensor B)> Parts { get; } = new List<(Group, int, Tensor, Tensor)>();

        /// <summary>The flat tensor as the swap leaves it (null without an image).</summary>
        public Tensor? Image { get; set; }

        /// <summary>The host mirror of the scales as the swap leaves them.</summary>
        public float[]? Mirror { get; set; }

        /// <summary>The slot versions the image was built from.</summary>
        public Dictionary<string, long>? Versions { get; set; }

        /// <summary>Every layer of the adapter in this store, with the scale the image folded in.</summary>
        public List<StagedLayer> Layers { get; } = new List<StagedLayer>();

        public void Dispose()
        {
            foreach (var (_, _, a, b) in Parts)
            {
                a.Dispose();
                b.Dispose();
            }
            Parts.Clear();
            Image?.Dispose();
            Image = null;
        }
    }

    private static long Numel(long[] shape)
    {
        long n = 1;
        foreach (long d in shape) n *= d;
        return n;
    }

    /// <summary>Gives every aliased adapter owned, contiguous copies of its factors, then frees the flat tensor.</summary>
    public void Dispose()
    {
        using (torch.no_grad())
        {
            foreach (var w in _aliased)
            {
                var a = torch.empty(w.A.shape, w.A.dtype, w.A.device).DetachFromDisposeScope();
                var b = torch.empty(w.B.shape, w.B.dtype, w.B.device).DetachFromDisposeScope();
                a.copy_(w.A);
                b.copy_(w.B);
                w.ReplaceFactors(a, b);
            }
        }
        _aliased.Clear();
        foreach (var g in _groups)
        {
            foreach (var (_, plan) in g.Layers) plan.ReleaseViews();
            g.Dispose();
        }
        _flat?.Dispose();
        _flat = null;
        Scales.Dispose();
    }

    internal sealed class Group
    {
        public Group(long width, long outFeatures, (string Name, long Rank)[] slots, long sumRank)
        {
            Width = width;
            Out = outFeatures;
            Slots = slots;
            SumRank = sumRank;
        }

        public long Width { get; }

        public long Out { get; }

        public (string Name, long Rank)[] Slots { get; }

        public long SumRank { get; }

        public List<(LayerAdapters Layer, LayerGraphPlan Plan)> Layers { get; } = new List<(LayerAdapters, LayerGraphPlan)>();

        public long AOffset { get; set; }

        public long BOffset { get; set; }

        public long ScaledOffset { get; set; }

        public long ScaleOffset { get; set; }

        public Tensor? A { get; set; }

        public Tensor? B { get; set; }

        public Tensor? Scaled { get; set; }

        public Tensor? Scale { get; set; }

        public int SlotIndex(string name)
        {
            for (int i = 0; i < Slots.Length; i++)
                if (string.Equals(Slots[i].Name, name, StringComparison.Ordinal)) return i;
            return -1;
        }

        public long SlotOffset(int k)
        {
            long offset = 0;
            for (int i = 0; i < k; i++) offset += Slots[i].Rank;
            return offset;
        }

        public void Dispose()
        {
            A?.Dispose();
            B?.Dispose();
            Scaled?.Dispose();
            Scale?.Dispose();
            A = B = Scaled = Scale = null;
        }
    }
}
