using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using static TorchSharp.torch;
using LoraSdk.Core;

namespace LoraSdk.Merging;

/// <summary>
/// PEFT's <c>LoraModel.add_weighted_adapter</c> as pure tensor math: validates the request like PEFT
/// (<see cref="Plan"/>) and computes the merged lora_A / lora_B of every layer for all eleven combination types
/// (<see cref="Merge"/>). The engine turns the result into an ordinary adapter.
/// </summary>
public static class LoraMerger
{
    /// <summary>PEFT's message when linear / ties / dare_* / magnitude_prune get adapters of different ranks.</summary>
    public const string SameRankMessage =
        "All adapters must have the same r value when using combination_type linear, ties, dare_ties or dare_linear.";

    /// <summary>
    /// Validates a merge request without touching tensors and returns the merged adapter's config (PEFT's
    /// <c>_check_add_weighted_adapter</c>, plus the checks PEFT only makes while merging: density, svd_clamp, weights).
    /// </summary>
    /// <exception cref="LoraMergeException">The request is invalid; the message is PEFT's where PEFT has one.</exception>
    public static LoraMergePlan Plan(IReadOnlyList<LoraMergeSource> sources, LoraMergeOptions options)
    {
        if (sources == null) throw new ArgumentNullException(nameof(sources));
        if (options == null) throw new ArgumentNullException(nameof(options));
        if (sources.Count == 0)
        {
            throw new LoraMergeException(LoraMergeErrorKind.InvalidAdapters,
                "Found no adapter matching the names in []: add_weighted_adapter needs at least one adapter.");
        }
        foreach (var s in sources)
        {
            if (s == null) throw new ArgumentException("A merge source is null.", nameof(sources));
            if (s.Rank <= 0)
            {
                throw new LoraMergeException(LoraMergeErrorKind.InvalidAdapters,
                    $"Adapter {s.Name} has rank {s.Rank.ToString(CultureInfo.InvariantCulture)}; ranks must be positive.");
            }
            if (double.IsNaN(s.Weight) || double.IsInfinity(s.Weight))
            {
                throw new LoraMergeException(LoraMergeErrorKind.InvalidWeight,
                    $"The weight of adapter {s.Name} is {PythonFloat(s.Weight)}; weights must be finite numbers.");
            }
        }
        var duplicate = sources.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null)
        {
            throw new LoraMergeException(LoraMergeErrorKind.InvalidAdapters,
                $"Adapter {duplicate.Key} is listed {duplicate.Count().ToString(CultureInfo.InvariantCulture)} times.");
        }

        var requested = options.CombinationType;
        // PEFT: "if there is only one adapter, we can only use linear merging".
        var type = sources.Count == 1 ? CombinationType.Linear : requested;
        int rank;
        if (CombinationTypes.RequiresEqualRanks(type))
        {
            if (sources.Select(s => s.Rank).Distinct().Count() != 1)
            {
                throw new LoraMergeException(LoraMergeErrorKind.RankMismatch, SameRankMessage);
            }
            rank = sources[0].Rank;
        }
        else if (type == CombinationType.Cat)
        {
            long sum = sources.Sum(s => (long)s.Rank);
            if (sum > int.MaxValue)
            {
                throw new LoraMergeException(LoraMergeErrorKind.InvalidRank, "The concatenated rank exceeds 2^31 - 1.");
            }
            rank = (int)sum;
        }
        else
        {
            // PEFT: new_rank = svd_rank or max(adapters_ranks) (0 is falsy).
            rank = options.SvdRank is int r && r != 0 ? r : sources.Max(s => s.Rank);
            if (rank <= 0)
            {
                throw new LoraMergeException(LoraMergeErrorKind.InvalidRank,
                    $"`r` should be a positive integer value but the value passed is {rank.ToString(CultureInfo.InvariantCulture)}");
            }
        }

        if (CombinationTypes.UsesDensity(type)) CheckDensity(type, options.Density);
        if (CombinationTypes.IsSvd(type) && options.SvdClamp is double clamp && !(clamp >= 0 && clamp <= 1))
        {
            throw new LoraMergeException(LoraMergeErrorKind.InvalidClamp,
                $"quantile() q must be in the range [0, 1] but got {PythonFloat(clamp)} (svd_clamp).");
        }
        return new LoraMergePlan(requested, type, rank, sources[0].UseRsLora);
    }

    /// <summary>
    /// Merges the given layers. Layers must be in the model's module order (PEFT's <c>named_modules</c> order) for the
    /// DARE types to reproduce PEFT's random masks; the result lists them in the same order. Inputs are never changed.
    /// Computation is float32 (float64 for float64 factors) on the factors' device; results take the first source's
    /// lora_A dtype.
    /// </summary>
    /// <exception cref="LoraMergeException">Invalid request or layer; nothing is returned and nothing changes.</exception>
    public static LoraMergeResult Merge(IReadOnlyList<LoraMergeSource> sources, IReadOnlyList<LoraMergeLayer> layers,
        LoraMergeOptions options)
    {
        var plan = Plan(sources, options);
        if (layers == null) throw new ArgumentNullException(nameof(layers));
        var shapes = layers.Select(l => ValidateLayer(l, sources, plan)).ToList();

        long? seed = null;
        DareRandomStream? random = null;
        var merged = new List<LoraMergedLayer>(layers.Count);
        try
        {
            if (CombinationTypes.IsRandom(plan.CombinationType) && options.Density < 1)
            {
                seed = options.Seed ?? Random.Shared.NextInt64(long.MinValue, long.MaxValue);
                random = new DareRandomStream(seed.Value);
                random.ReplayAdapterInitialisation(shapes, options.Initialization);
            }
            else if (CombinationTypes.IsRandom(plan.CombinationType))
            {
                seed = options.Seed;
            }
            for (int i = 0; i < layers.Count; i++)
            {
                merged.Add(MergeLayer(layers[i], shapes[i], sources, plan, options, random));
            }
        }
        catch
        {
            foreach (var m in merged)
            {
                m.A.Dispose();
                m.B.Dispose();
            }
            throw;
        }
        finally
        {
            random?.Dispose();
        }
        return new LoraMergeResult(plan, seed, merged);
    }

    private static LoraMergedLayer MergeLayer(LoraMergeLayer layer, (long[] AShape, long[] BShape) shape,
        IReadOnlyList<LoraMergeSource> sources, LoraMergePlan plan, LoraMergeOptions options, DareRandomStream? random)
    {
        using var scope = NewDisposeScope();
        var present = new List<(LoraMergeSource Source, Tensor A, Tensor B, double Scaling)>();
        ScalarType? resultType = null;
        for (int i = 0; i < sources.Count; i++)
        {
            var f = layer.Sources[i];
            if (f == null) continue;
            resultType ??= f.A.dtype;
            var compute = f.A.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
            present.Add((sources[i], f.A.to_type(compute), f.B.to_type(compute), f.Scaling));
        }
        var device = present[0].A.device;

        Tensor a, b;
        var type = plan.CombinationType;
        if (type == CombinationType.Cat)
        {
            // PEFT: loras_A gets weight and scaling (two multiplications), loras_B is unweighted; the rest stays zero.
            var aCat = cat(present.Select(p => p.A * p.Source.Weight * p.Scaling).ToArray(), 0);
            var bCat = cat(present.Select(p => p.B).ToArray(), 1);
            a = PadRank(aCat, shape.AShape, 0);
            b = PadRank(bCat, shape.BShape, 1);
        }
        else if (type == CombinationType.Svd && options.SvdAlgorithm == SvdAlgorithm.Auto
            && SvdFactorization.LowRankApplies(present.Sum(p => p.A.shape[0]), shape.BShape[0], shape.AShape.Skip(1).Aggregate(1L, (x, y) => x * y)))
        {
            // ΔW = Σ (weight·scaling)·(scaling·B·A): PEFT weights get_delta_weight, which is already scaled.
            var terms = present.Select(p => (p.A, p.B, (double)(float)(p.Source.Weight * p.Scaling) * p.Scaling)).ToList();
            (a, b) = SvdFactorization.FactorizeLowRank(terms, shape.AShape, shape.BShape, options.SvdClamp);
        }
        else if (CombinationTypes.IsSvd(type))
        {
            var weights = tensor(present.Select(p => (float)(p.Source.Weight * p.Scaling)).ToArray(), ScalarType.Float32, device);
            var deltas = present.Select(p => DeltaWeights.Of(p.A, p.B, p.Scaling)).ToList();
            var delta = TaskTensorMerging.Merge(type, deltas, weights, options.Density, options.MajoritySignMethod, random);
            (a, b) = SvdFactorization.Factorize(delta, shape.AShape, shape.BShape, options.SvdClamp, options.SvdFullMatrices);
        }
        else
        {
            // PEFT: sqrt(|weight·scaling|) on both factors, the sign on lora_A only.
            var weightsA = new float[present.Count];
            var weightsB = new float[present.Count];
            for (int i = 0; i < present.Count; i++)
            {
                double ws = present[i].Source.Weight * present[i].Scaling;
                double root = Math.Sqrt(Math.Abs(ws));
                weightsA[i] = (float)(ws >= 0 ? root : -root);
                weightsB[i] = (float)root;
            }
            a = TaskTensorMerging.Merge(type, present.Select(p => p.A).ToList(), tensor(weightsA, ScalarType.Float32, device),
                options.Density, options.MajoritySignMethod, random);
            b = TaskTensorMerging.Merge(type, present.Select(p => p.B).ToList(), tensor(weightsB, ScalarType.Float32, device),
                options.Density, options.MajoritySignMethod, random);
        }
        var outA = a.to_type(resultType!.Value).contiguous();
        var outB = b.to_type(resultType.Value).contiguous();
        // A no-op conversion returns the same handle; keep results independent of the inputs.
        if (IsInput(outA, layer)) outA = outA.clone();
        if (IsInput(outB, layer)) outB = outB.clone();
        outA.MoveToOuterDisposeScope();
        outB.MoveToOuterDisposeScope();
        return new LoraMergedLayer(layer.Name, outA, outB);
    }

    private static bool IsInput(Tensor t, LoraMergeLayer layer) =>
        layer.Sources.Any(f => f != null && (f.A.Handle == t.Handle || f.B.Handle == t.Handle));

    private static Tensor PadRank(Tensor part, long[] target, int rankDim)
    {
        long have = part.shape[rankDim];
        long want = target[rankDim];
        if (have == want) return part;
        var padShape = (long[])target.Clone();
        padShape[rankDim] = want - have;
        return cat(new[] { part, zeros(padShape, part.dtype, part.device) }, rankDim);
    }

    private static (long[] AShape, long[] BShape) ValidateLayer(LoraMergeLayer layer, IReadOnlyList<LoraMergeSource> sources,
        LoraMergePlan plan)
    {
        if (layer == null) throw new ArgumentException("A merge layer is null.", nameof(layer));
        if (layer.Sources.Count != sources.Count)
        {
            throw new LoraMergeException(LoraMergeErrorKind.InvalidLayer,
                $"has factors for {layer.Sources.Count.ToString(CultureInfo.InvariantCulture)} adapters but the merge has {sources.Count.ToString(CultureInfo.InvariantCulture)}.",
                layer.Name);
        }
        long[]? aTail = null;
        long outFeatures = -1;
        long[]? equalRankShape = null;
        long rankSum = 0;
        bool any = false;
        for (int i = 0; i < sources.Count; i++)
        {
            var f = layer.Sources[i];
            if (f == null) continue;
            any = true;
            string who = $"adapter {sources[i].Name}";
            long[] a = f.A.shape, b = f.B.shape;
            bool linear = a.Length == 2 && b.Length == 2;
            bool conv = a.Length == 4 && b.Length == 4 && b[2] == 1 && b[3] == 1;
            if (!linear && !conv)
            {
                throw new LoraMergeException(LoraMergeErrorKind.InvalidLayer,
                    $"{who}: lora_A {Shape(a)} / lora_B {Shape(b)} are neither Linear (r, in)/(out, r) nor Conv2d (r, in, kh, kw)/(out, r, 1, 1) factors.",
                    layer.Name);
            }
            if (a[0] != b[1] || a[0] <= 0)
            {
                throw new LoraMergeException(LoraMergeErrorKind.InvalidLayer,
                    $"{who}: lora_A {Shape(a)} and lora_B {Shape(b)} disagree on the rank.", layer.Name);
            }
            if (!IsFloatingPoint(f.A.dtype) || !IsFloatingPoint(f.B.dtype))
            {
                throw new LoraMergeException(LoraMergeErrorKind.InvalidLayer,
                    $"{who}: factors must be floating point, got {f.A.dtype} / {f.B.dtype}.", layer.Name);
            }
            var tail = a.Skip(1).ToArray();
            if (aTail == null)
            {
                aTail = tail;
                outFeatures = b[0];
            }
            else if (!tail.SequenceEqual(aTail) || b[0] != outFeatures)
            {
                throw new LoraMergeException(LoraMergeErrorKind.InvalidLayer,
                    $"{who}: factors {Shape(a)} / {Shape(b)} do not fit the same layer as the other adapters' (in {Shape(aTail)}, out {outFeatures.ToString(CultureInfo.InvariantCulture)}).",
                    layer.Name);
            }
            if (CombinationTypes.RequiresEqualRanks(plan.CombinationType))
            {
                if (equalRankShape == null) equalRankShape = a;
                else if (!a.SequenceEqual(equalRankShape))
                {
                    throw new LoraMergeException(LoraMergeErrorKind.RankMismatch,
                        $"{who}: lora_A {Shape(a)} differs from {Shape(equalRankShape)}. {SameRankMessage}", layer.Name);
                }
            }
            rankSum += a[0];
        }
        if (!any)
        {
            throw new LoraMergeException(LoraMergeErrorKind.InvalidLayer,
                "No matching LoRAs found: no source adapter targets this layer.", layer.Name);
        }
        if (plan.CombinationType == CombinationType.Cat && rankSum > plan.Rank)
        {
            throw new LoraMergeException(LoraMergeErrorKind.InvalidLayer,
                $"the layer ranks add up to {rankSum.ToString(CultureInfo.InvariantCulture)}, more than the merged rank {plan.Rank.ToString(CultureInfo.InvariantCulture)}.",
                layer.Name);
        }
        var aShape = new long[aTail!.Length + 1];
        aShape[0] = plan.Rank;
        Array.Copy(aTail, 0, aShape, 1, aTail.Length);
        var bShape = aTail.Length == 1 ? new[] { outFeatures, plan.Rank } : new[] { outFeatures, plan.Rank, 1L, 1L };
        return (aShape, bShape);
    }

    private static void CheckDensity(CombinationType type, double? density)
    {
        string name = CombinationTypes.PeftName(type);
        if (density is not double d)
        {
            // PEFT reaches `density >= 0` with None here and raises TypeError: '>=' not supported between instances of
            // 'NoneType' and 'int'; name the missing parameter instead.
            throw new LoraMergeException(LoraMergeErrorKind.InvalidDensity,
                $"combination_type {name} needs `density` (LoraMergeOptions.Density: the fraction of values to keep, in {(CombinationTypes.IsRandom(type) ? "(0, 1]" : "[0, 1]")}), but none was given.",
                parameterName: "density");
        }
        if (double.IsNaN(d))
        {
            throw new LoraMergeException(LoraMergeErrorKind.InvalidDensity, $"Density should be >= 0, got nan", parameterName: "density");
        }
        if (d < 0)
        {
            throw new LoraMergeException(LoraMergeErrorKind.InvalidDensity, $"Density should be >= 0, got {PythonFloat(d)}", parameterName: "density");
        }
        if (d == 0 && CombinationTypes.IsRandom(type))
        {
            throw new LoraMergeException(LoraMergeErrorKind.InvalidDensity,
                $"Density 0.0 is not allowed for combination_type {name}: DARE rescales the kept values by 1/density.", parameterName: "density");
        }
    }

    private static bool IsFloatingPoint(ScalarType t) =>
        t == ScalarType.Float32 || t == ScalarType.Float64 || t == ScalarType.Float16 || t == ScalarType.BFloat16;

    private static string Shape(long[] shape) =>
        "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";

    /// <summary>Formats a double like Python's <c>repr(float)</c> for the common cases (1.0, 0.5, -0.1, inf, nan).</summary>
    internal static string PythonFloat(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsPositiveInfinity(value)) return "inf";
        if (double.IsNegativeInfinity(value)) return "-inf";
        string s = value.ToString("R", CultureInfo.InvariantCulture);
        return s.IndexOfAny(new[] { '.', 'E', 'e' }) < 0 ? s + ".0" : s;
    }
}
