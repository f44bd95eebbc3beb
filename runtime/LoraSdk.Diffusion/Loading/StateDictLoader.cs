using System;
using System.Collections.Generic;
using System.Linq;
using LoraSdk.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Loading;

/// <summary>
/// Strict weight loading into a module whose parameter names are the checkpoint's key names (after an optional key
/// mapping). Every check (missing, unexpected and duplicate keys, shapes, dtypes) runs on the headers before any
/// tensor data is read, so a failed load leaves the module unchanged. Loaded tensors become the parameters' storage
/// (zero-copy copy-on-write views of the file when no dtype conversion is needed).
/// </summary>
public static class StateDictLoader
{
    /// <summary>
    /// Loads <paramref name="source"/> into <paramref name="module"/> converting to <paramref name="dtype"/> (the
    /// model's dtype; a parameter the model created in another dtype, such as T5's <c>wo</c> kept in float32 under
    /// float16, is loaded in its own dtype).
    /// <paramref name="mapKey"/> maps a file key to a parameter name, or returns null to skip the key (for
    /// non-persistent buffers older checkpoints contain, such as CLIP's <c>position_ids</c>).
    /// </summary>
    /// <exception cref="ModelLoadException">A missing, unexpected or duplicate key, a shape mismatch, or a non-float tensor.</exception>
    public static void Load(nn.Module module, WeightSource source, ScalarType dtype, Func<string, string?>? mapKey = null)
    {
        var parameters = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in module.named_parameters()) parameters[name] = p;

        var plan = new List<(string FileKey, Tensor Target)>();
        var sourceOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string key in source.Keys)
        {
            string? name = mapKey is null ? key : mapKey(key);
            if (name is null) continue;
            if (sourceOf.TryGetValue(name, out var other))
                throw new ModelLoadException(ModelLoadErrorKind.DuplicateWeight, source.FileOf(key).Path, key,
                    $"maps to the same parameter '{name}' as '{other}'");
            sourceOf[name] = key;
            if (!parameters.TryGetValue(name, out var target))
                throw new ModelLoadException(ModelLoadErrorKind.UnexpectedWeight, source.FileOf(key).Path, key,
                    $"the model has no parameter '{name}' ({UnexpectedSummary(source, mapKey, parameters)})");
            SafetensorsTensorInfo info = source.Info(key);
            if (info.DType is not (SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F64))
                throw new ModelLoadException(ModelLoadErrorKind.UnsupportedDType, source.FileOf(key).Path, key,
                    $"dtype {SafetensorsDTypes.Name(info.DType)} cannot be loaded into a floating-point parameter");
            long[] expected = target.shape;
            if (!expected.SequenceEqual(info.Shape))
                throw new ModelLoadException(ModelLoadErrorKind.ShapeMismatch, source.FileOf(key).Path, key,
                    $"shape {SafetensorsHeader.FormatShape(info.Shape)} in the file, {SafetensorsHeader.FormatShape(expected)} in the model");
            plan.Add((key, target));
        }
        var missing = parameters.Keys.Where(n => !sourceOf.ContainsKey(n)).OrderBy(n => n, StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
            throw new ModelLoadException(ModelLoadErrorKind.MissingWeight, source.Description, missing[0],
                missing.Count == 1 ? "the model needs this weight but the file does not have it"
                    : $"the model needs this weight but the file does not have it ({missing.Count} missing, e.g. {string.Join(", ", missing.Take(5))})");

        using var noGrad = no_grad();
        foreach (var (fileKey, target) in plan)
        {
            using var loaded = source.FileOf(fileKey).Load(fileKey, target.dtype, target.device);
            target.set_(loaded);
        }
    }

    private static string UnexpectedSummary(WeightSource source, Func<string, string?>? mapKey, Dictionary<string, Tensor> parameters)
    {
        int count = source.Keys.Count(k => (mapKey is null ? k : mapKey(k)) is string n && !parameters.ContainsKey(n));
        return count == 1 ? "1 unexpected key" : $"{count} unexpected keys";
    }
}
