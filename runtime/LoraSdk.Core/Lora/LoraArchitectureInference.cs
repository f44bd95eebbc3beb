using System.Collections.Generic;

namespace LoraSdk.Core;

/// <summary>Infers the base architecture from module paths and shapes (see <see cref="LoraFileModel.ImpliedArchitecture"/>).</summary>
internal static class LoraArchitectureInference
{
    public static string? Infer(IReadOnlyDictionary<string, IReadOnlyDictionary<string, LoraModuleSpec>> components, LoraFileModelOptions options,
        bool fluxKeyLayout = false)
    {
        if (components.TryGetValue(LoraComponents.Transformer, out var transformer) && transformer.Count > 0)
        {
            foreach (var layout in FluxTransformerLayout.BuiltIn)
                if (Fits(transformer, layout)) return LoraArchitectures.Flux;
            bool custom = true;
            foreach (var layout in FluxTransformerLayout.BuiltIn) custom &= !ReferenceEquals(layout, options.Transformer);
            if (custom && Fits(transformer, options.Transformer)) return options.Transformer.Name;
            // Only FluxTransformer2DModel has these module paths; the shapes fit no known width.
            return LoraArchitectures.Flux;
        }
        if (fluxKeyLayout) return LoraArchitectures.Flux;
        if (components.TryGetValue(LoraComponents.Unet, out var unet) && unet.Count > 0)
        {
            string? fit = null;
            int fits = 0;
            foreach (var layout in UnetLayout.BuiltIn)
            {
                if (!Fits(unet, layout)) continue;
                fits++;
                fit = layout.Name;
            }
            if (fits == 1) return fit;
            if (fits == 0 && !Contains(UnetLayout.BuiltIn, options.Unet) && Fits(unet, options.Unet)) return options.Unet.Name;
            if (fits == 0)
            {
                string? byCross = ByCrossAttentionWidth(unet);
                if (byCross != null) return byCross;
            }
            if (fits > 1) return null;
        }
        bool hasTe1 = components.TryGetValue(LoraComponents.TextEncoder, out var te1) && te1.Count > 0;
        bool hasTe2 = components.TryGetValue(LoraComponents.TextEncoder2, out var te2) && te2.Count > 0;
        if (hasTe2 && Fits(te2!, TextEncoderLayout.ClipG)) return LoraArchitectures.Sdxl;
        if (hasTe1 && Fits(te1!, TextEncoderLayout.OpenClipH)) return LoraArchitectures.Sd2;
        return null;
    }

    private static string? ByCrossAttentionWidth(IReadOnlyDictionary<string, LoraModuleSpec> unet)
    {
        string? result = null;
        foreach (var m in unet.Values)
        {
            if (!m.ModulePath.EndsWith("attn2.to_k", System.StringComparison.Ordinal)
                && !m.ModulePath.EndsWith("attn2.to_v", System.StringComparison.Ordinal)) continue;
            string? arch = m.InFeatures switch
            {
                2048 => LoraArchitectures.Sdxl,
                768 => LoraArchitectures.Sd15,
                1024 => LoraArchitectures.Sd2,
                _ => null,
            };
            if (arch == null || (result != null && result != arch)) return null;
            result = arch;
        }
        return result;
    }

    private static bool Fits(IReadOnlyDictionary<string, LoraModuleSpec> modules, UnetLayout layout)
    {
        foreach (var m in modules.Values)
            if (!layout.TryGetModule(m.ModulePath, out var b) || LoraFileModel.Mismatch(m, b) != null) return false;
        return true;
    }

    private static bool Fits(IReadOnlyDictionary<string, LoraModuleSpec> modules, FluxTransformerLayout layout)
    {
        foreach (var m in modules.Values)
            if (!layout.TryGetModule(m.ModulePath, out var b) || LoraFileModel.Mismatch(m, b) != null) return false;
        return true;
    }

    private static bool Fits(IReadOnlyDictionary<string, LoraModuleSpec> modules, TextEncoderLayout layout)
    {
        foreach (var m in modules.Values)
            if (!layout.TryGetModule(m.ModulePath, out var b) || LoraFileModel.Mismatch(m, b) != null) return false;
        return true;
    }

    private static bool Contains(IReadOnlyList<UnetLayout> list, UnetLayout layout)
    {
        foreach (var l in list) if (ReferenceEquals(l, layout)) return true;
        return false;
    }
}
