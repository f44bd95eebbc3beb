using System.Collections.Generic;
using LoraSdk.Core;

namespace LoraSdk.Diffusion.Tests.Support;

/// <summary>One case of tests/fixtures-prompt/goldens.json (<c>cases["&lt;cond&gt;/&lt;case&gt;"]</c>).</summary>
/// <param name="Condition">base, lora_a, lora_a_scale_0.5, lora_ab_0.7_0.8.</param>
/// <param name="Name">p0_neg_empty, p0_neg_blurry, p0_neg_none, p1_neg_empty.</param>
/// <param name="Prompt">The prompt.</param>
/// <param name="NegativePrompt">The negative prompt (null for p0_neg_none).</param>
/// <param name="Seed">The generator seed.</param>
public sealed record PromptCase(string Condition, string Name, string Prompt, string? NegativePrompt, long Seed)
{
    /// <summary>The four case names.</summary>
    public static readonly IReadOnlyList<string> Names = new[] { "p0_neg_empty", "p0_neg_blurry", "p0_neg_none", "p1_neg_empty" };

    /// <summary>Golden key prefix <c>&lt;cond&gt;/&lt;case&gt;/</c>.</summary>
    public string Key(string tensor) => $"{Condition}/{Name}/{tensor}";

    /// <summary>Reads a case from the prompt goldens.</summary>
    public static PromptCase Load(string condition, string name)
    {
        JsonValue c = GoldenSet.Prompt.Node("cases", $"{condition}/{name}");
        var neg = c["negative_prompt"]!;
        return new PromptCase(condition, name, c["prompt"]!.AsString(), neg.IsNull ? null : neg.AsString(), c["seed"]!.AsInt64());
    }
}
