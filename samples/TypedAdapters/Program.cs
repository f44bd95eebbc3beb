using System;
using System.Globalization;
using System.Linq;
using LoraSdk.Typed;
using TypedAdapters;
using TypedAdapters.Loras;

// The adapters are types generated at build time from adapters.manifest and the files' safetensors headers:
// hover Adapters.Ikea in the IDE to see its rank, alpha, target layers, trigger words and file hash.
Console.WriteLine($"{Adapters.All.Count} adapters for {Adapters.BaseModel.Name}:");
foreach (var adapter in Adapters.All)
{
    string components = string.Join(" + ", adapter.Components.Select(c => $"{c.Name}[{c.ModuleCount}]"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {adapter.Name,-10} {adapter.FileName,-28} rank {adapter.Rank} alpha {adapter.Alpha} scaling {adapter.Scaling} " +
        $"{adapter.Format,-13} {components}  \"{adapter.TriggerPrompt}\"  sha256 {adapter.Sha256[..12]}"));
}

// The SDXL host implements ILoraPipeline; here a printing stand-in. The base model is part of the type:
// passing an adapter generated for another base model to this pipeline does not compile.
ILoraPipeline host = new PrintingPipeline();
TypedLoraPipeline<TinySdxl> pipe = host.AssumeBaseModel<TinySdxl>();

pipe.LoadLoraWeights(Adapters.Ikea);
pipe.LoadLoraWeights(Adapters.Feng);
pipe.SetAdapters(Adapters.Ikea.At(0.7), Adapters.Feng.At(0.8));
pipe.SetAdapters(Adapters.Ikea, Adapters.Feng); // manifest default weights
pipe.FuseLora(0.9, Adapters.Ikea);
pipe.Pipeline.UnfuseLora();
pipe.DeleteAdapters(Adapters.Ikea);

// Equal-rank merges are typed by rank: Ikea's UNet part and Light are both rank 4 (Feng, rank 8, would not compile).
pipe.LoadLoraWeights(Adapters.IkeaUnet);
pipe.LoadLoraWeights(Adapters.Light);
pipe.AddWeightedAdapter("ikea_light_linear", Adapters.IkeaUnet.At(1.0).And(Adapters.Light.At(0.5)), EqualRankCombination.Linear);
pipe.AddWeightedAdapter(Merges.IkeaLight);
pipe.AddWeightedAdapter("ikea_feng_cat", LoraMerge.Of(Adapters.IkeaUnet.At(1.0), Adapters.Feng.At(0.5)), AnyRankCombination.Cat);
pipe.SetAdapters(Merges.IkeaLight.At(1.0));
pipe.Pipeline.UnloadLoraWeights();

// Hotswap: the group's slot is padded to its target rank and filled with the widest member first; only members swap in.
Console.WriteLine($"group {HotswapGroups.Styles.Name}: target rank {HotswapGroups.Styles.TargetRank}, load order {string.Join(", ", HotswapGroups.Styles.LoadOrder)}");
var slot = pipe.EnableHotswap(HotswapGroups.Styles);
slot.Swap(Adapters.Subtle);
slot.Swap(Adapters.Light);
pipe.SetAdapters(slot.At(0.9));
Console.WriteLine($"slot {slot}");
