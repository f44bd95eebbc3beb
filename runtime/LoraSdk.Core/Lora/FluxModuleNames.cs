using System;
using System.Collections.Generic;
using System.Globalization;

namespace LoraSdk.Core;

/// <summary>
/// The one table of Flux module names: the original (BFL / ComfyUI <c>diffusion_model.</c>) name of every LoRA-able
/// Flux layer and the diffusers module path(s) it becomes, as diffusers' <c>lora_conversion_utils.py</c> maps them.
/// kohya/sd-scripts names are these names with '.' replaced by '_' after <c>lora_unet_</c>
/// (<c>double_blocks_0_img_attn_qkv</c>); XLabs has its own attention-processor names (<see cref="TryXLabs"/>).
/// A fused layer (<c>img_attn.qkv</c>, <c>txt_attn.qkv</c>, single-block <c>linear1</c>) maps to several diffusers
/// modules that share lora_A and take consecutive row ranges of lora_B.
/// </summary>
internal static class FluxModuleNames
{
    /// <summary>How a fused layer's lora_B rows are divided among its diffusers modules.</summary>
    public enum Split
    {
        /// <summary>One module; the tensors are used whole.</summary>
        None,

        /// <summary>Equal parts (q, k, v): <c>rows / n</c> each.</summary>
        Equal,

        /// <summary>FLUX.1's fixed sizes <see cref="Flux1Linear1Rows"/> (diffusers hard-codes them for single-block <c>linear1</c>).</summary>
        Flux1Linear1,
    }

    /// <summary>
    /// The row sizes diffusers splits a single-block <c>linear1</c> lora_B into (q, k, v, mlp of FLUX.1: 3072, 3072,
    /// 3072, 12288), whatever the model's real width.
    /// </summary>
    public static readonly IReadOnlyList<long> Flux1Linear1Rows = new long[] { 3072, 3072, 3072, 12288 };

    /// <summary>diffusers' kohya conversion covers double blocks 0…18 and single blocks 0…37 (FLUX.1's counts).</summary>
    public const int KohyaDoubleBlocks = 19;

    /// <summary>See <see cref="KohyaDoubleBlocks"/>.</summary>
    public const int KohyaSingleBlocks = 38;

    /// <summary>One original layer name and where it goes.</summary>
    public sealed class Entry
    {
        public Entry(string original, string[] targets, Split split = Split.None, bool swapUpHalves = false)
        {
            Original = original;
            Targets = targets;
            SplitKind = split;
            SwapBHalves = swapUpHalves;
        }

        /// <summary>The name within its block (<c>img_attn.qkv</c>) or at the root (<c>final_layer.linear</c>).</summary>
        public string Original { get; }

        /// <summary>The diffusers module paths within the block (or at the root), in split order.</summary>
        public string[] Targets { get; }

        public Split SplitKind { get; }

        /// <summary><c>final_layer.adaLN_modulation.1</c>: diffusers swaps the (shift, scale) halves of lora_B (<c>swap_scale_shift</c>).</summary>
        public bool SwapBHalves { get; }
    }

    public static readonly Entry[] DoubleBlock =
    {
        new Entry("img_attn.qkv", new[] { "attn.to_q", "attn.to_k", "attn.to_v" }, Split.Equal),
        new Entry("img_attn.proj", new[] { "attn.to_out.0" }),
        new Entry("img_mlp.0", new[] { "ff.net.0.proj" }),
        new Entry("img_mlp.2", new[] { "ff.net.2" }),
        new Entry("img_mod.lin", new[] { "norm1.linear" }),
        new Entry("txt_attn.qkv", new[] { "attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj" }, Split.Equal),
        new Entry("txt_attn.proj", new[] { "attn.to_add_out" }),
        new Entry("txt_mlp.0", new[] { "ff_context.net.0.proj" }),
        new Entry("txt_mlp.2", new[] { "ff_context.net.2" }),
        new Entry("txt_mod.lin", new[] { "norm1_context.linear" }),
    };

    public static readonly Entry[] SingleBlock =
    {
        new Entry("linear1", new[] { "attn.to_q", "attn.to_k", "attn.to_v", "proj_mlp" }, Split.Flux1Linear1),
        new Entry("linear2", new[] { "proj_out" }),
        new Entry("modulation.lin", new[] { "norm.linear" }),
    };

    public static readonly Entry[] Root =
    {
        new Entry("img_in", new[] { "x_embedder" }),
        new Entry("txt_in", new[] { "context_embedder" }),
        new Entry("time_in.in_layer", new[] { "time_text_embed.timestep_embedder.linear_1" }),
        new Entry("time_in.out_layer", new[] { "time_text_embed.timestep_embedder.linear_2" }),
        new Entry("vector_in.in_layer", new[] { "time_text_embed.text_embedder.linear_1" }),
        new Entry("vector_in.out_layer", new[] { "time_text_embed.text_embedder.linear_2" }),
        new Entry("guidance_in.in_layer", new[] { "time_text_embed.guidance_embedder.linear_1" }),
        new Entry("guidance_in.out_layer", new[] { "time_text_embed.guidance_embedder.linear_2" }),
        new Entry("final_layer.linear", new[] { "proj_out" }),
        new Entry("final_layer.adaLN_modulation.1", new[] { "norm_out.linear" }, swapUpHalves: true),
    };

    /// <summary>A resolved original name: the entry, the block prefix of the targets (<c>transformer_blocks.3.</c> or empty) and the block index (-1 at the root).</summary>
    public readonly struct Resolved
    {
        public Resolved(Entry entry, string targetPrefix, int block, bool single)
        {
            Entry = entry;
            TargetPrefix = targetPrefix;
            Block = block;
            Single = single;
        }

        public Entry Entry { get; }

        public string TargetPrefix { get; }

        public int Block { get; }

        public bool Single { get; }

        public bool IsRoot => Block < 0;

        public string Target(int i) => TargetPrefix + Entry.Targets[i];
    }

    /// <summary>
    /// Resolves an original layer name: dotted (<c>double_blocks.3.img_attn.qkv</c>, <c>final_layer.linear</c>) or, with
    /// <paramref name="underscored"/>, kohya's spelling without the <c>lora_unet_</c> prefix
    /// (<c>double_blocks_3_img_attn_qkv</c>).
    /// </summary>
    public static bool TryResolve(string name, bool underscored, out Resolved resolved)
    {
        resolved = default;
        char sep = underscored ? '_' : '.';
        foreach (var (prefix, entries, single, targetRoot) in Blocks)
        {
            string p = prefix + sep;
            if (!name.StartsWith(p, StringComparison.Ordinal)) continue;
            int i = p.Length;
            int start = i;
            while (i < name.Length && name[i] >= '0' && name[i] <= '9') i++;
            if (i == start || i >= name.Length || name[i] != sep || i - start > 6) return false;
            if (i - start > 1 && name[start] == '0') return false;
            int block = int.Parse(name.Substring(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture);
            string rest = name.Substring(i + 1);
            foreach (var e in entries)
            {
                if (rest != (underscored ? e.Original.Replace('.', '_') : e.Original)) continue;
                resolved = new Resolved(e, targetRoot + "." + block.ToString(CultureInfo.InvariantCulture) + ".", block, single);
                return true;
            }
            return false;
        }
        foreach (var e in Root)
        {
            if (name != (underscored ? e.Original.Replace('.', '_') : e.Original)) continue;
            resolved = new Resolved(e, "", -1, false);
            return true;
        }
        return false;
    }

    private static readonly (string Prefix, Entry[] Entries, bool Single, string TargetRoot)[] Blocks =
    {
        ("double_blocks", DoubleBlock, false, "transformer_blocks"),
        ("single_blocks", SingleBlock, true, "single_transformer_blocks"),
    };

    /// <summary>
    /// XLabs attention-processor LoRA names (<c>double_blocks.{i}.processor.{qkv_lora1|proj_lora1|qkv_lora2|proj_lora2}</c>,
    /// <c>single_blocks.{i}.processor.{qkv_lora|proj_lora}</c>) → diffusers modules, as
    /// <c>_convert_xlabs_flux_lora_to_diffusers</c> maps them (q/k/v split in equal parts).
    /// </summary>
    public static bool TryXLabs(string module, out string[] targets)
    {
        targets = Array.Empty<string>();
        bool single;
        string rest;
        if (module.StartsWith("double_blocks.", StringComparison.Ordinal)) { single = false; rest = module.Substring("double_blocks.".Length); }
        else if (module.StartsWith("single_blocks.", StringComparison.Ordinal)) { single = true; rest = module.Substring("single_blocks.".Length); }
        else return false;
        int dot = rest.IndexOf('.');
        if (dot <= 0 || !int.TryParse(rest.Substring(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out int block)) return false;
        string b = (single ? "single_transformer_blocks." : "transformer_blocks.") + block.ToString(CultureInfo.InvariantCulture) + ".";
        string processor = rest.Substring(dot + 1);
        targets = (single, processor) switch
        {
            (false, "processor.qkv_lora1") => new[] { b + "attn.to_q", b + "attn.to_k", b + "attn.to_v" },
            (false, "processor.proj_lora1") => new[] { b + "attn.to_out.0" },
            (false, "processor.qkv_lora2") => new[] { b + "attn.add_q_proj", b + "attn.add_k_proj", b + "attn.add_v_proj" },
            (false, "processor.proj_lora2") => new[] { b + "attn.to_add_out" },
            (true, "processor.qkv_lora") => new[] { b + "attn.to_q", b + "attn.to_k", b + "attn.to_v" },
            (true, "processor.proj_lora") => new[] { b + "proj_out" },
            _ => Array.Empty<string>(),
        };
        return targets.Length > 0;
    }

    /// <summary>The roots of a diffusers <c>FluxTransformer2DModel</c>'s module paths.</summary>
    public static readonly HashSet<string> TransformerRoots = new HashSet<string>(StringComparer.Ordinal)
    {
        "transformer_blocks", "single_transformer_blocks", "x_embedder", "context_embedder", "time_text_embed", "norm_out", "proj_out",
    };
}
