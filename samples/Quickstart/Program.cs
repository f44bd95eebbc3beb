// LoraSdk quickstart: diffusers' StableDiffusionXLPipeline in C#.
//
//   dotnet run --project samples/Quickstart                      (embedded tiny model, no download)
//   dotnet run --project samples/Quickstart -- <sdxl-folder>     (a diffusers SDXL folder, e.g. stable-diffusion-xl-base-1.0)
//
// The tiny model has random weights: its images are noise-like patterns, but every number equals diffusers'.
// Pointed at a real SDXL folder the same code makes real images (use bfloat16 on CPU, see below).

using System;
using System.IO;
using LoraSdk.Diffusion.Lora;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Pipelines;
using static TorchSharp.torch;

string repo = FindRepositoryRoot();
bool embedded = args.Length == 0;
string modelFolder = embedded ? Path.Combine(repo, "models", "tiny-sdxl-prompt") : args[0];

// 1. Load the pipeline folder (model_index.json + unet/vae/text encoders/tokenizers/scheduler).
//    float32 matches diffusers exactly; ScalarType.BFloat16 is the fast choice for a real SDXL on a CPU.
var loadOptions = new ModelLoadOptions { DType = embedded ? ScalarType.Float32 : ScalarType.BFloat16 };
using var pipe = StableDiffusionXLPipeline.FromPretrained(modelFolder, loadOptions);
int size = embedded ? 64 : 1024;

// 2. Generate: pipe(prompt, negative_prompt, num_inference_steps, guidance_scale, generator=manual_seed(1000)).
Directory.CreateDirectory("out");
using (var result = pipe.Generate(new StableDiffusionXLCallOptions
{
    Prompt = "bears, pizza bites",
    NegativePrompt = "blurry, low quality",
    NumInferenceSteps = embedded ? 20 : 30,
    GuidanceScale = 5.0,
    Height = size,
    Width = size,
    Seed = 1000,
    Progress = new ConsoleProgress(),
}))
{
    result.SavePng(Path.Combine("out", "quickstart.png"));
}
Console.WriteLine($"wrote {Path.GetFullPath(Path.Combine("out", "quickstart.png"))}");

// 3. LoRA: load an adapter (diffusers' load_lora_weights / set_adapters) and schedule its scale per step with
//    callback_on_step_end, like the Diffusers guide: 1.5 for the first step, 0.7 for the second, 0.2 after.
string loraFile = embedded ? Path.Combine(repo, "tests", "fixtures", "loras", "lora_a.safetensors") : args.Length > 1 ? args[1] : "";
if (File.Exists(loraFile))
{
    var lora = pipe.Lora;
    lora.LoadLoraWeights(loraFile, "a");
    double[] scales = { 1.5, 0.7, 0.2 };
    lora.SetAdapters(new[] { "a" }, new[] { scales[0] });
    using var withLora = pipe.Generate(new StableDiffusionXLCallOptions
    {
        Prompt = "bears, pizza bites",
        NumInferenceSteps = 3,
        GuidanceScale = 5.0,
        Height = size,
        Width = size,
        Seed = 1000,
        CallbackOnStepEnd = (pipeline, step, timestep, tensors) =>
        {
            lora.SetAdapters(new[] { "a" }, new[] { scales[Math.Min(step + 1, scales.Length - 1)] });
            return tensors;
        },
    });
    withLora.SavePng(Path.Combine("out", "quickstart-lora.png"));
    Console.WriteLine($"wrote {Path.GetFullPath(Path.Combine("out", "quickstart-lora.png"))} (LoRA 'a', scale scheduled 1.5 → 0.7 → 0.2)");
}

static string FindRepositoryRoot()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LoraSdk.sln"))) return dir.FullName;
    }
    throw new DirectoryNotFoundException("Run the sample from inside the LoraSdk repository (it looks for LoraSdk.sln).");
}

/// <summary>Prints one line per denoising step (synchronously, unlike Progress&lt;T&gt;).</summary>
internal sealed class ConsoleProgress : IProgress<PipelineProgress>
{
    public void Report(PipelineProgress value) => Console.WriteLine($"step {value.Step}/{value.TotalSteps} (timestep {value.Timestep})");
}
