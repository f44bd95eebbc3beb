using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Core;
using LoraSdk.Diffusion.Tests.Lora;

namespace LoraSdk.Diffusion.Tests.Flux.Lora;

/// <summary>
/// Compares the engine's adapter state with a Flux golden <c>adapter_state_after</c>: active adapters, list adapters,
/// the number of LoRA layers and the first layer's active adapters per component, fused LoRAs.
/// </summary>
internal static class FluxLoraStateAssert
{
    public static void Matches(LoraAdapterManager manager, JsonValue state)
    {
        Assert.Equal(LoraStateAssert.Strings(state["get_active_adapters"]!), manager.GetActiveAdapters());
        var expectedList = state["get_list_adapters"]!;
        var actualList = manager.GetListAdapters();
        Assert.Equal(expectedList.Properties.Select(p => p.Key).OrderBy(k => k), actualList.Keys.OrderBy(k => k));
        foreach (var p in expectedList.Properties) Assert.Equal(LoraStateAssert.Strings(p.Value), actualList[p.Key]);
        foreach (var component in new[] { LoraComponents.Transformer, LoraComponents.TextEncoder })
        {
            if (!manager.TryGetComponent(component, out var c)) continue;
            long layers = state[component + ".num_lora_layers"]!.AsInt64();
            int count = c.GetScalings().Count;
            Assert.True(layers == count, $"{component}: {count} LoRA layers, diffusers {layers}");
            var first = state[component + ".first_lora_layer_active_adapters"]!;
            if (first.IsNull) Assert.False(c.HasInjectedLayers, $"{component} should have no LoRA layer");
            else Assert.Equal(LoraStateAssert.Strings(first), c.GetActiveAdapters());
        }
        // diffusers' Flux pipeline has no text_encoder_2 LoRA: the golden always reports none there.
        Assert.Equal(0, state["text_encoder_2.num_lora_layers"]!.AsInt64());
        Assert.False(manager.TryGetComponent(LoraComponents.TextEncoder2, out _));
        Assert.Equal(LoraStateAssert.Strings(state["fused_loras"]!).OrderBy(x => x), manager.FusedLoras.OrderBy(x => x));
        Assert.Equal((int)state["num_fused_loras"]!.AsInt64(), manager.NumFusedLoras);
    }
}
