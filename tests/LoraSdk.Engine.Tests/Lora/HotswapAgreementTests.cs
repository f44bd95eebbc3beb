using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Build;
using LoraSdk.Core;
using LoraSdk.Generators.Binding;
using LoraSdk.Generators.Model;
using LoraSdk.Generators.Parsing;
using LoraSdk.Generators.Tests.Infrastructure;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>
/// The build and the engine judge hotswap groups alike: the same files (every entry with <c>"prefix": "unet"</c>) go
/// through the real build step (sidecars) and the generator's binder, and through the engine the way the typed API drives it (<c>EnableLoraHotswap(targetRank)</c>,
/// load the group's first member, swap each other member in). A member gets a hotswap diagnostic (LSDK007, LSDK008,
/// LSDK018, LSDK021) exactly when the engine refuses it — both ask <see cref="HotswapCompatibility"/>.
/// </summary>
public class HotswapAgreementTests
{
    private static readonly string[] HotswapIds = { "LSDK007", "LSDK008", "LSDK018", "LSDK021" };

    /// <summary>Writes the adapter file of <paramref name="kind"/> for <see cref="TinyModel"/>.</summary>
    private static string WriteAdapter(TempDir dir, string name, string kind)
    {
        string file = name + ".safetensors";
        List<KeyValuePair<string, Tensor>> tensors;
        Dictionary<string, string>? metadata = null;
        switch (kind)
        {
            case "lora4": tensors = LoraTestData.PeftTensors(4, 1); break;
            case "lora8": tensors = LoraTestData.PeftTensors(8, 2); break;
            case "lora2-in": tensors = LoraTestData.PeftTensors(2, 3, new[] { TinyModel.ProjIn }); break;
            case "lora8-in": tensors = LoraTestData.PeftTensors(8, 4, new[] { TinyModel.ProjIn }); break;
            case "lora4-inout": tensors = LoraTestData.PeftTensors(4, 5, new[] { TinyModel.ProjIn, TinyModel.ProjOut }); break;
            case "lora4-conv": tensors = LoraTestData.PeftTensors(4, 6, new[] { TinyModel.Conv1 }); break;
            case "rslora4-in":
                tensors = LoraTestData.PeftTensors(4, 7, new[] { TinyModel.ProjIn });
                metadata = new Dictionary<string, string>
                {
                    [LoraAdapterConfig.MetadataKey] = "{\"unet.r\": 4, \"unet.lora_alpha\": 4, \"unet.use_rslora\": true, \"unet.target_modules\": [\"proj_in\"]}",
                };
                break;
            case "te-rslora+lora4-in":
                // rsLoRA on the text-encoder part only; the member is loaded with prefix "unet".
                tensors = LoraTestData.PeftTensors(4, 8, new[] { TinyModel.ProjIn });
                tensors.Add(new("text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight", zeros(4, 768)));
                tensors.Add(new("text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_B.weight", zeros(768, 4)));
                metadata = new Dictionary<string, string>
                {
                    [LoraAdapterConfig.MetadataKey] = "{\"unet.r\": 4, \"unet.lora_alpha\": 4, \"text_encoder.r\": 4, \"text_encoder.lora_alpha\": 4, " +
                                                      "\"text_encoder.use_rslora\": true}",
                };
                break;
            case "dora-in":
                // PEFT DoRA (diffusers' save_lora_adapter form): lora_A/B plus the magnitude vector of the layer's outputs.
                tensors = LoraTestData.PeftTensors(4, 9, new[] { TinyModel.ProjIn });
                tensors.Add(new("unet." + TinyModel.ProjIn + ".lora_magnitude_vector", ones(16)));
                break;
            case "loha": tensors = LycorisTestData.KohyaTensors(LycorisTestData.Case("loha")); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
        LoraTestData.WriteFile(dir, file, tensors, metadata);
        foreach (var t in tensors) t.Value.Dispose();
        return file;
    }

    public static TheoryData<string, int?, string> Groups() => new TheoryData<string, int?, string>
    {
        // members (name:kind, manifest order), targetRank (null = "max"), each refused member = diagnostic:engine error
        { "A:lora4 B:lora2-in", null, "" },
        { "A:lora4 B:lora8-in", 4, "B=LSDK008:HotswapRankTooLarge" },
        { "A:lora4 B:lora8-in", null, "" },
        { "A:lora4-inout B:lora4-conv", null, "B=LSDK007:HotswapUnexpectedKeys" },
        { "A:lora4 B:rslora4-in", null, "B=LSDK021:HotswapIncompatibleConfig" },
        { "A:lora4 B:te-rslora+lora4-in", null, "" },
        { "A:lora4 B:loha", null, "B=LSDK018:UnsupportedVariant" },
        { "A:lora4 B:dora-in", null, "B=LSDK018:UnsupportedVariant" },
        { "A:lora8 B:lora2-in", 4, "A=LSDK008:HotswapRankTooLarge" },
        { "A:loha B:lora2-in", null, "A=LSDK018:UnsupportedVariant" },
    };

    [Theory]
    [MemberData(nameof(Groups))]
    public void AGroupMemberHasADiagnosticExactlyWhenTheEngineRefusesIt(string members, int? targetRank, string refused)
    {
        using var dir = new TempDir();
        var entries = members.Split(' ').Select(m => m.Split(':')).Select(p => (Name: p[0], File: WriteAdapter(dir, p[0], p[1]))).ToList();
        var expected = refused.Split(' ', StringSplitOptions.RemoveEmptyEntries).OrderBy(x => x, StringComparer.Ordinal).ToList();

        var (loadOrder, slotRank, flagged) = Build(dir, entries, targetRank);
        var engineRefused = Engine(dir, loadOrder.Select(n => (n, entries.Single(e => e.Name == n).File)).ToList(), slotRank);

        // Same members on both sides, each with the diagnostic and the engine error that say the same thing.
        Assert.Equal(flagged.Keys.OrderBy(x => x, StringComparer.Ordinal), engineRefused.Keys.OrderBy(x => x, StringComparer.Ordinal));
        var actual = flagged.Keys.Select(name => $"{name}={flagged[name]}:{engineRefused[name]}").OrderBy(x => x, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
    }

    /// <summary>The build step and the binder: the group's load order and target rank, and the hotswap diagnostics by member.</summary>
    private static (IReadOnlyList<string> LoadOrder, int TargetRank, Dictionary<string, string> Flagged) Build(TempDir dir,
        IReadOnlyList<(string Name, string File)> entries, int? targetRank)
    {
        string manifestPath = Path.Combine(dir.Path, "adapters.manifest");
        string adapters = string.Join(",\n", entries.Select(e => $"    {{ \"name\": \"{e.Name}\", \"file\": \"{e.File}\", \"prefix\": \"unet\", \"triggerWords\": [\"t\"] }}"));
        string group = $"{{ \"name\": \"Slot\", \"members\": [{string.Join(", ", entries.Select(e => "\"" + e.Name + "\""))}], " +
                       $"\"targetRank\": {(targetRank is int r ? r.ToString(System.Globalization.CultureInfo.InvariantCulture) : "\"max\"")} }}";
        File.WriteAllText(manifestPath, "{\n  \"namespace\": \"Demo\",\n  \"baseModel\": \"sdxl\",\n  \"adapters\": [\n" + adapters +
                                        "\n  ],\n  \"hotswapGroups\": [ " + group + " ]\n}\n");

        var buildEngine = new FakeBuildEngine();
        var task = new InspectLoraAdapters
        {
            BuildEngine = buildEngine,
            Manifests = new ITaskItem[] { new TaskItem(manifestPath) },
            OutputDirectory = Path.Combine(dir.Path, "obj"),
        };
        Assert.True(task.Execute(), string.Join("\n", buildEngine.Errors.Select(e => e.Message)));
        var sidecars = task.Sidecars
            .Select(s => SidecarParser.Parse(s.ItemSpec, File.ReadAllText(s.ItemSpec)))
            .OrderBy(s => s.SidecarPath, StringComparer.Ordinal)
            .ToEquatableArray();
        var bound = ManifestBinder.Bind(ManifestParser.Parse(Path.GetFullPath(manifestPath), File.ReadAllText(manifestPath)), sidecars);
        var slot = Assert.Single(bound.Groups);
        var flagged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in bound.Diagnostics.Where(d => HotswapIds.Contains(d.Descriptor.Id)))
        {
            // The member each names: LSDK008 names it last, the others second.
            string member = d.Descriptor.Id == "LSDK008" ? d.Arguments[3] : d.Arguments[1];
            flagged[member] = flagged.TryGetValue(member, out var ids) ? ids + "+" + d.Descriptor.Id : d.Descriptor.Id;
        }
        return (slot.LoadOrder.ToList(), slot.TargetRank, flagged);
    }

    /// <summary>
    /// The engine as the typed API drives it (<c>TypedLoraPipeline.EnableHotswap</c>, then <c>Hotswap</c> per member):
    /// the members it refuses, with the error kind. When the first member does not load, nothing can be swapped.
    /// </summary>
    private static Dictionary<string, LoraErrorKind> Engine(TempDir dir, IReadOnlyList<(string Name, string File)> loadOrder, int targetRank)
    {
        var refused = new Dictionary<string, LoraErrorKind>(StringComparer.Ordinal);
        var model = new TinyModel();
        using var _ = model;
        var manager = new LoraAdapterManager(new[] { LoraTestData.Component(model) });
        manager.EnableLoraHotswap(targetRank);
        try
        {
            manager.LoadLoraWeights(Path.Combine(dir.Path, loadOrder[0].File), "Slot", prefix: "unet");
        }
        catch (LoraException e)
        {
            refused[loadOrder[0].Name] = e.Kind;
            return refused;
        }
        foreach (var (name, file) in loadOrder.Skip(1))
        {
            try
            {
                manager.LoadLoraWeights(Path.Combine(dir.Path, file), "Slot", hotswap: true, prefix: "unet");
            }
            catch (LoraException e)
            {
                refused[name] = e.Kind;
            }
        }
        return refused;
    }
}
