// Typed LoRA adapters on the real SDXL host.
//
//   dotnet run --project samples/TypedAdapters
//
// The adapters are types generated at build time from adapters.manifest and the files' safetensors headers: hover
// Adapters.Ikea in the IDE to see its rank, alpha, target layers, trigger words and file hash. The build copies the
// adapter files to loras/ next to the app, where the typed pipeline finds them. The embedded tiny SDXL has random
// weights (its images are noise-like patterns), so this runs in seconds on a CPU; the same code runs a real SDXL.

using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Lora;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Typed;
using TypedAdapters.Loras;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
TorchSharp.torch.set_num_threads(1); // deterministic, and the fastest for a 64×64 tiny model

Console.WriteLine($"{Adapters.All.Count} adapters for {Adapters.BaseModel.Name}:");
foreach (var adapter in Adapters.All)
{
    string components = string.Join(" + ", adapter.Components.Select(c => $"{c.Name}[{c.ModuleCount}]"));
    Console.WriteLine($"  {adapter.Name,-10} {adapter.FileName,-28} rank {adapter.Rank} alpha {adapter.Alpha} scaling {adapter.Scaling} " +
                      $"{adapter.Format,-13} {components}  \"{adapter.TriggerPrompt}\"  sha256 {adapter.Sha256[..12]}");
}

// The SDXL host: the pipeline itself has diffusers' string-keyed LoRA API (ILoraPipeline);
// AssumeBaseModel<TinySdxl>() types it: adapters generated for another base model do not compile.
using var pipe = StableDiffusionXLPipeline.FromPretrained(Path.Combine(FindRepositoryRoot(), "models", "tiny-sdxl-prompt"));
TypedLoraPipeline<TinySdxl> lora = pipe.AssumeBaseModel<TinySdxl>();

string output = Path.GetFullPath("out");
Directory.CreateDirectory(output);
void Generate(string name, string prompt)
{
    var watch = Stopwatch.StartNew();
    using var image = pipe.Generate(new StableDiffusionXLCallOptions
    {
        Prompt = prompt,
        NumInferenceSteps = 4,
        Height = 64,
        Width = 64,
        Seed = 1000,
    });
    image.SavePng(Path.Combine(output, name + ".png"));
    string active = string.Join(", ", lora.Pipeline.GetActiveAdapters());
    Console.WriteLine($"image {name}.png: \"{prompt}\", active [{active}], {watch.ElapsedMilliseconds} ms");
}

Generate("base", "a living room");

// load_lora_weights + set_adapters with typed weights; the prompt carries the adapters' trigger words.
lora.LoadLoraWeights(Adapters.Ikea);
lora.LoadLoraWeights(Adapters.Feng);
lora.SetAdapters(Adapters.Ikea.At(0.7), Adapters.Feng.At(0.8));
Generate("ikea-feng", $"a living room, {Adapters.Ikea.TriggerPrompt}, {Adapters.Feng.TriggerPrompt}");
lora.SetAdapters(Adapters.Ikea, Adapters.Feng); // the manifest's default weights (Ikea 0.8, Feng 1)

// fuse_lora bakes Ikea into the weights; unfuse_lora restores them bit for bit.
lora.FuseLora(0.9, Adapters.Ikea);
Generate("ikea-fused", $"a living room, {Adapters.Ikea.TriggerPrompt}");
lora.Pipeline.UnfuseLora();
lora.DeleteAdapters(Adapters.Ikea);

// Merges (PEFT's add_weighted_adapter on the UNet). Equal-rank merges are typed by rank: Ikea's UNet part and
// Light are both rank 4 (Feng, rank 8, would not compile here); cat accepts any ranks; IkeaLight is declared in
// the manifest (TIES, density 0.5).
lora.LoadLoraWeights(Adapters.IkeaUnet);
lora.LoadLoraWeights(Adapters.Light);
lora.AddWeightedAdapter("ikea_light_linear", Adapters.IkeaUnet.At(1.0).And(Adapters.Light.At(0.5)), EqualRankCombination.Linear);
lora.AddWeightedAdapter(Merges.IkeaLight);
lora.AddWeightedAdapter("ikea_feng_cat", LoraMerge.Of(Adapters.IkeaUnet.At(1.0), Adapters.Feng.At(0.5)), AnyRankCombination.Cat);
lora.SetAdapters(Merges.IkeaLight.At(1.0));
Generate("ikea-light-ties", "a living room in soft light");
lora.Pipeline.UnloadLoraWeights();

// Hotswap: enable_lora_hotswap(target_rank) before the first load, the slot filled with the group's widest member;
// only members of the group swap in (any other adapter does not compile), in place, without new allocations.
var styles = HotswapGroups.Styles;
Console.WriteLine($"group {styles.Name}: target rank {styles.TargetRank}, load order {string.Join(", ", styles.LoadOrder)}");
var slot = lora.EnableHotswap(styles);
Generate("slot-" + slot.Current.Name, "a living room");
slot.Swap(Adapters.Subtle);
Generate("slot-" + slot.Current.Name, $"a living room, {Adapters.Subtle.TriggerPrompt}");
slot.Swap(Adapters.Light);
lora.SetAdapters(slot.At(0.9));
Generate("slot-" + slot.Current.Name, $"a living room, {Adapters.Light.TriggerPrompt}");
Console.WriteLine($"slot {slot}; images in {output}");

static string FindRepositoryRoot()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LoraSdk.sln"))) return dir.FullName;
    }
    throw new DirectoryNotFoundException("Run the sample from inside the LoraSdk repository (it looks for LoraSdk.sln).");
}
