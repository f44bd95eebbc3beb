using System.Collections.Generic;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Core;

namespace LoraSdk.Diffusion.Tests.Lora;

/// <summary>Compares the engine's adapter state with a golden <c>adapter_state_after</c> record.</summary>
internal static class LoraStateAssert
{
    public static void Matches(LoraAdapterManager manager, JsonValue state)
    {
        Assert.Equal(Strings(state["get_active_adapters"]!), manager.GetActiveAdapters());
        var expectedList = state["get_list_adapters"]!;
        var actualList = manager.GetListAdapters();
        Assert.Equal(expectedList.Properties.Select(p => p.Key).OrderBy(k => k), actualList.Keys.OrderBy(k => k));
        foreach (var p in expectedList.Properties) Assert.Equal(Strings(p.Value), actualList[p.Key]);
        foreach (var component in new[] { LoraComponents.Unet, LoraComponents.TextEncoder, LoraComponents.TextEncoder2 })
        {
            var node = state[component + ".first_lora_layer_active_adapters"];
            if (node is null || !manager.TryGetComponent(component, out var c)) continue;
            if (node.IsNull)
            {
                Assert.False(c.HasInjectedLayers, $"{component} should have no LoRA layer");
            }
            else
            {
                Assert.Equal(Strings(node), c.GetActiveAdapters());
            }
        }
        Assert.Equal(Strings(state["fused_loras"]!).OrderBy(x => x), manager.FusedLoras.OrderBy(x => x));
        Assert.Equal((int)state["num_fused_loras"]!.AsInt64(), manager.NumFusedLoras);
    }

    public static List<string> Strings(JsonValue array) => array.Items.Select(i => i.AsString()).ToList();
}
