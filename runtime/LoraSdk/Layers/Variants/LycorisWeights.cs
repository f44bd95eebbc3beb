using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using LoraSdk.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Layers;

/// <summary>
/// The LyCORIS variants whose update is a dense ΔW built from their factors rather than a low-rank product:
/// <see cref="LohaWeights"/> (Hadamard) and <see cref="LokrWeights"/> (Kronecker). The forward pass adds
/// scale · op(x, ΔW) — F.linear, or F.conv2d with the layer's stride and padding — after the adapters before it; fuse and
/// the materialized mode add scale · ΔW to the weight. The scale is LyCORIS' <c>alpha / rank</c> (see
/// <see cref="LoraModuleSpec.Rank"/>) × the adapter weight × the runtime scale; saves write the tensors back under their
/// LyCORIS names with an <c>alpha</c> scalar.
/// </summary>
public abstract class LycorisWeights : AdapterWeights
{
    private readonly SortedDictionary<LoraTensorRole, Tensor> _tensors;

    private protected LycorisWeights(string adapterName, IReadOnlyDictionary<LoraTensorRole, Tensor> tensors, int rank, double alpha)
        : base(adapterName, rank, alpha, useRsLora: false)
    {
        if (tensors.Count == 0) throw new ArgumentException("a LyCORIS module needs tensors", nameof(tensors));
        _tensors = new SortedDictionary<LoraTensorRole, Tensor>();
        foreach (var t in tensors) _tensors.Add(t.Key, t.Value);
        Tensors = new ReadOnlyDictionary<LoraTensorRole, Tensor>(_tensors);
    }

    /// <summary>The tensors by role (<see cref="LoraTensorRole.HadaW1A"/>, …), as the file stores them (live; do not dispose).</summary>
    public IReadOnlyDictionary<LoraTensorRole, Tensor> Tensors { get; }

    /// <inheritdoc />
    public override Device Device => First.device;

    /// <inheritdoc />
    public override ScalarType DType => First.dtype;

    internal override bool JoinsBatchedProduct => false;

    private Tensor First
    {
        get
        {
            foreach (var t in _tensors.Values) return t;
            throw new InvalidOperationException("no tensors");
        }
    }

    /// <summary>
    /// The unscaled ΔW in <paramref name="dtype"/> (the factors are cast first), shaped as the factors compose it:
    /// (out, in·kh·kw) for flat factors, (out, in, kh, kw) for Tucker or 4-D ones. Intermediates live in the caller's
    /// dispose scope.
    /// </summary>
    internal abstract Tensor ComputeDelta(ScalarType dtype);

    /// <summary>The tensor of <paramref name="role"/> in <paramref name="dtype"/> (the live tensor when it already is).</summary>
    private protected Tensor Factor(LoraTensorRole role, ScalarType dtype)
    {
        var t = _tensors[role];
        return t.dtype == dtype ? t : t.to(dtype);
    }

    private protected bool Has(LoraTensorRole role) => _tensors.ContainsKey(role);

    /// <summary>Tucker rebuild as LyCORIS defines it: Σᵢⱼ core[i, j, …] · a[i, out] · b[j, in] → (out, in, …).</summary>
    private protected static Tensor Tucker(Tensor core, Tensor a, Tensor b) => torch.einsum("ijkl,jr,ip->prkl", core, b, a);

    internal override void AddForward(LoraLayer layer, Tensor input, Tensor result, double scale)
    {
        using var scope = torch.NewDisposeScope();
        var delta = ComputeDelta(result.dtype).reshape(layer.Weight.shape);
        layer.AddDense(input, result, delta, scale);
    }

    internal override void FoldInto(Tensor weight, double scale)
    {
        using var scope = torch.NewDisposeScope();
        var delta = ComputeDelta(weight.dtype).reshape(weight.shape);
        weight.add_(delta, scale);
    }

    internal override IEnumerable<KeyValuePair<string, Tensor>> SavedTensors(bool upcast)
    {
        foreach (var t in _tensors)
        {
            string suffix = SavedTensorNames.For(t.Key) ?? throw new InvalidOperationException($"no saved name for {t.Key}");
            yield return new KeyValuePair<string, Tensor>(suffix, upcast ? t.Value.to(ScalarType.Float32) : t.Value);
        }
        // kohya writes alpha as a float32 scalar; an alpha that float32 cannot hold exactly is written as float64.
        var alphaType = (double)(float)Alpha == Alpha ? ScalarType.Float32 : ScalarType.Float64;
        yield return new KeyValuePair<string, Tensor>(SavedTensorNames.For(LoraTensorRole.Alpha)!, torch.tensor(Alpha, alphaType));
    }

    private protected override void MoveTensors(Device? device, ScalarType? dtype)
    {
        foreach (var role in new List<LoraTensorRole>(_tensors.Keys))
        {
            var t = _tensors[role];
            var moved = Moved(t, device, dtype);
            if (ReferenceEquals(moved, t)) continue;
            t.Dispose();
            _tensors[role] = moved;
        }
    }

    internal override void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        base.Dispose();
    }

    /// <summary>Builds the weights of a LyCORIS <paramref name="variant"/> (<see cref="LoraVariants.LoHa"/> or <see cref="LoraVariants.LoKr"/>).</summary>
    internal static LycorisWeights Create(string variant, string adapterName, IReadOnlyDictionary<LoraTensorRole, Tensor> tensors, int rank, double alpha) =>
        variant switch
        {
            LoraVariants.LoHa => new LohaWeights(adapterName, tensors, rank, alpha),
            LoraVariants.LoKr => new LokrWeights(adapterName, tensors, rank, alpha),
            _ => throw new ArgumentException($"'{variant}' is not a LyCORIS variant", nameof(variant)),
        };

    /// <summary>
    /// The shape of ΔW as the tensors of a <paramref name="variant"/> module compose it ((out, in·kh·kw) or
    /// (out, in, kh, kw)), or null when they do not compose (the formats core reports such modules as invalid).
    /// </summary>
    internal static long[]? DeltaShape(string variant, IReadOnlyDictionary<LoraTensorRole, long[]> shapes) =>
        variant switch
        {
            LoraVariants.LoHa => LohaWeights.DeltaShapeOf(shapes),
            LoraVariants.LoKr => LokrWeights.DeltaShapeOf(shapes),
            _ => null,
        };
}
