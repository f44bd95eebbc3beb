using System.Collections.Generic;
using System.Globalization;

namespace LoraSdk.Benchmarks.Merge;

/// <summary>
/// The layers an SDXL UNet LoRA typically targets: every transformer block's attn1/attn2 to_q/to_k/to_v/to_out.0 and
/// ff.net.0.proj/ff.net.2 — 70 blocks × 10 = 700 Linear layers (down_blocks.1: 2×2 blocks at 640 channels,
/// down_blocks.2: 2×10 at 1280, mid_block: 10 at 1280, up_blocks.0: 3×10 at 1280, up_blocks.1: 3×2 at 640;
/// cross-attention dim 2048, GEGLU feed-forward 4× wide), in the UNet's module order.
/// </summary>
internal static class SdxlAdapterShapes
{
    public static List<(string Name, long In, long Out)> Layers()
    {
        var layers = new List<(string, long, long)>();
        void Attentions(string prefix, int attentions, int blocks, long c)
        {
            for (int a = 0; a < attentions; a++)
            {
                for (int b = 0; b < blocks; b++)
                {
                    string p = string.Format(CultureInfo.InvariantCulture, "{0}.attentions.{1}.transformer_blocks.{2}", prefix, a, b);
                    layers.Add(($"{p}.attn1.to_q", c, c));
                    layers.Add(($"{p}.attn1.to_k", c, c));
                    layers.Add(($"{p}.attn1.to_v", c, c));
                    layers.Add(($"{p}.attn1.to_out.0", c, c));
                    layers.Add(($"{p}.attn2.to_q", c, c));
                    layers.Add(($"{p}.attn2.to_k", 2048, c));
                    layers.Add(($"{p}.attn2.to_v", 2048, c));
                    layers.Add(($"{p}.attn2.to_out.0", c, c));
                    layers.Add(($"{p}.ff.net.0.proj", c, 8 * c));
                    layers.Add(($"{p}.ff.net.2", 4 * c, c));
                }
            }
        }
        Attentions("down_blocks.1", 2, 2, 640);
        Attentions("down_blocks.2", 2, 10, 1280);
        Attentions("up_blocks.0", 3, 10, 1280);
        Attentions("up_blocks.1", 3, 2, 640);
        Attentions("mid_block", 1, 10, 1280);
        return layers;
    }
}
