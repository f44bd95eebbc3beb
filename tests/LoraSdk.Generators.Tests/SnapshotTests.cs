using System.Linq;
using LoraSdk.Generators.Tests.Infrastructure;

namespace LoraSdk.Generators.Tests;

/// <summary>Snapshots of the generated source (Verify conventions, see Infrastructure/Snapshot.cs).</summary>
public class SnapshotTests
{
    private const string EdgeManifest = """
        {
          "namespace": "Demo.Loras",
          "baseModel": "sdxl",
          "adapters": [
            { "name": "Ikea", "file": "loras/ikea.safetensors", "triggerWords": ["ikea <style> & \"co\""], "defaultWeight": 0.7 },
            { "name": "Feng", "file": "loras/feng.safetensors", "prefix": "unet", "triggerWordsMode": "replace", "triggerWords": ["feng"] },
            { "name": "Odd", "file": "loras/odd.safetensors", "triggerWords": ["odd"] },
            { "name": "Hada", "file": "loras/hada.safetensors", "triggerWords": ["hada"] }
          ],
          "hotswapGroups": [ { "name": "Styles", "members": ["Ikea", "Feng"] } ],
          "merges": [
            { "name": "IkeaFeng", "adapters": ["Ikea", "Feng"], "weights": [0.5, 1e-3], "combinationType": "ties", "density": 0.25, "seed": 7 },
            { "name": "Svd", "adapters": ["Ikea", "Odd"], "weights": [1, 1], "combinationType": "svd", "svdRank": 12 }
          ]
        }
        """;

    [Fact]
    public void EdgeCases()
    {
        var outcome = GeneratorHarness.Run(EdgeManifest, new[]
        {
            GeneratorHarness.Sidecar("loras/ikea.safetensors").Unet(Modules.Attention(4), 8, 16).Unet(Modules.Attention(1, "attn2.to_k"), 8, 16)
                .Declared("sdxl").Implied("sdxl"),
            GeneratorHarness.Sidecar("loras/feng.safetensors").Format("kohya").TriggerWords("from-file")
                .Unet(Modules.Attention(2), 8, 8).Unet(Modules.Attention(1, "attn2.to_k"), 4, 8)
                .Component("text_encoder", Modules.TextEncoder(1), 4, 4),
            GeneratorHarness.Sidecar("loras/odd.safetensors").Unet(Modules.Attention(1, "conv1"), 300, 300, "conv2d"),
            GeneratorHarness.Sidecar("loras/hada.safetensors").Format("lycoris").Unet(Modules.Attention(1), 4, 2).Variants("unet", "loha"),
        });
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Empty(outcome.CompilationErrors);
        Snapshot.Verify(outcome.AllSources);
    }

    [Fact]
    public void PeftFolder()
    {
        // A PEFT adapter folder (file + subfolder) with a rank and an alpha pattern, and one whose config says use_dora.
        const string manifest = """
            {
              "namespace": "Demo.Loras",
              "baseModel": "sdxl",
              "adapters": [
                { "name": "Ikea", "file": "peft/ikea_peft_model", "subfolder": "ikea", "triggerWords": ["ikea"] },
                { "name": "Dora", "file": "peft/dora", "triggerWords": ["dora"] }
              ]
            }
            """;
        var outcome = GeneratorHarness.Run(manifest, new[]
        {
            GeneratorHarness.Sidecar("peft/ikea_peft_model").Subfolder("ikea").Peft()
                .Unet(Modules.Attention(2), 4, 8).Unet(Modules.Attention(1, "attn2.to_k"), 8, 8).Unet(Modules.Attention(1, "attn2.to_v"), 4, 2),
            GeneratorHarness.Sidecar("peft/dora").Peft().Unet(Modules.Attention(1), 4, 8).Variants("unet", "dora"),
        });
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Empty(outcome.CompilationErrors);
        Snapshot.Verify(outcome.AllSources);
    }
}
