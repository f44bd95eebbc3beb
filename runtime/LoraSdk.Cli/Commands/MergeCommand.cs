using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using LoraSdk.Adapters;
using LoraSdk.Cli.Infrastructure;
using LoraSdk.Core;
using LoraSdk.Diffusion.Lora;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Merging;
using static TorchSharp.torch;

namespace LoraSdk.Cli.Commands;

/// <summary>
/// <c>lorasdk merge</c>: PEFT's <c>add_weighted_adapter</c> over LoRA files / PEFT adapter folders, written as a
/// diffusers-format LoRA file (or, with <c>--peft</c>, a PEFT adapter folder). Without <c>--model</c> the layers come
/// from the adapters themselves (<see cref="LoraModuleSkeleton"/>, in the model's <c>named_modules</c> order, so
/// <c>--seed</c> draws what PEFT draws after <c>torch.manual_seed</c>); with <c>--model</c> the pipeline's denoiser is
/// the base. Only the denoiser (<c>unet</c> / <c>transformer</c>) is merged, as PEFT merges one model.
/// </summary>
internal sealed class MergeCommand : CliCommand
{
    private const string DefaultName = "default";

    private readonly Option<string[]> _loras = CliOptions.LoraPaths(
        "A LoRA to merge: a .safetensors file (any supported format), a folder holding one, or a PEFT adapter folder. Repeat for each adapter (at least one). " +
        "No :weight suffix here; the weights go in --weights.",
        required: true);
    private readonly Option<double[]?> _weights = CliOptions.FiniteList("--weights", "w1,w2,...",
        "The adapters' weights, comma-separated, one per --lora (PEFT's weights; default 1.0 each).");
    private readonly Option<string?> _combination = RequiredChoice(CliOptions.Choice("--combination", "type",
        "PEFT's combination_type.", CombinationTypes.All.Select(CombinationTypes.PeftName).ToArray()));
    private readonly Option<double?> _density = CliOptions.Finite("--density", "d",
        "Fraction of weights kept by the pruning types (ties, dare_*, magnitude_prune and their _svd forms; required there), 0 < d <= 1.",
        min: 0, max: 1);
    private readonly Option<int?> _svdRank = CliOptions.Int("--svd-rank", "r",
        "Rank of the merged adapter for the svd types (default: the largest source rank).", 1, 1 << 20);
    private readonly Option<string?> _majoritySign = CliOptions.Choice("--majority-sign", "method",
        "How ties / dare_ties elect the sign (PEFT's majority_sign_method; default total).",
        Enum.GetValues<MajoritySignMethod>().Select(MajoritySignMethods.PeftName).ToArray());
    private readonly Option<long?> _seed = CliOptions.Long("--seed", "S",
        "Seed of DARE's random masks (dare_* types): the masks PEFT draws after torch.manual_seed(S) (default: random; printed).");
    private readonly Option<string?> _name = new("--name")
    {
        Description = $"Name of the merged adapter: the subfolder of a --peft folder (\"{DefaultName}\": the folder itself, PEFT's layout). Default {DefaultName}.",
        HelpName = "adapter",
    };
    private readonly Option<string?> _model = new("--model")
    {
        Description = "A diffusers pipeline folder to merge on (PEFT on the real model: its layers decide PEFT targets and module order). " +
                      "Default: none; the layers come from the LoRAs (float32), which needs no weights.",
        HelpName = "folder",
    };
    private readonly Option<bool> _peft = new("--peft")
    {
        Description = "Write a PEFT adapter folder (adapter_config.json + adapter_model.safetensors, PEFT's save_pretrained layout) to --out instead of a file.",
    };
    private readonly Option<string> _out = CliOptions.OutputFile("--out", "file.safetensors|folder",
        "The merged LoRA: a diffusers-format .safetensors file (keys <component>.<module>.lora_A.weight, PEFT config in the metadata), " +
        "or with --peft a folder. Written atomically.", required: true);
    private readonly Option<bool> _quiet = CliOptions.Quiet();

    /// <inheritdoc />
    public override string Name => "merge";

    /// <inheritdoc />
    public override string Description =>
        "Merge LoRA adapters into one with PEFT's add_weighted_adapter (linear, cat, svd, ties, dare_linear, dare_ties, magnitude_prune, and the _svd forms).";

    /// <inheritdoc />
    public override IReadOnlyList<string> HelpNotes => new[]
    {
        "Only the denoiser (unet / transformer) is merged; text-encoder parts of the LoRAs are left out (with a warning).",
        "linear, ties, dare_* and magnitude_prune need equal ranks (PEFT's rule); cat and the svd types do not.",
        "Without --model the layers are those the LoRAs adapt, in diffusers' module order, so --seed reproduces PEFT's DARE masks;",
        "  a PEFT folder whose targets match layers the LoRAs have no keys for needs --model for PEFT's exact result.",
        "Example: lorasdk merge --lora ikea_peft_model/ikea --lora feng_peft_model/feng --weights 1.0,1.0 --combination dare_linear \\",
        "           --density 0.5 --seed 0 --name ikea-feng --out merged.safetensors",
    };

    /// <inheritdoc />
    protected override void Declare(Command command)
    {
        foreach (var option in new Option[] { _loras, _weights, _combination, _density, _svdRank, _majoritySign, _seed, _name, _model, _peft, _out, _quiet })
            command.Options.Add(option);
    }

    /// <inheritdoc />
    protected override int Execute(CliContext context)
    {
        var r = ReadRequest(context);
        context.EnableProgress(!r.Quiet);
        var progress = context.Progress;

        IDiffusionPipeline? pipeline = null;
        try
        {
            LoraAdapterManager manager;
            if (r.Model is not null)
            {
                progress.Stage($"loading model {r.Model} (float32)");
                pipeline = DiffusionPipeline.FromPretrained(r.Model);
                manager = ((LoraPipeline)pipeline).Lora;
            }
            else
            {
                progress.Stage($"reading {r.Loras.Count} LoRA header(s)");
                manager = LoraModuleSkeleton.CreateManager(r.Loras, ScalarType.Float32);
            }
            manager.Warning += progress.Warning;

            var sources = SourceNames(r.Loras.Count, r.Name);
            string? denoiser = null;
            var leftOut = new List<string>();
            for (int i = 0; i < r.Loras.Count; i++)
            {
                progress.Stage($"loading LoRA {i + 1}/{r.Loras.Count} {r.Loras[i]}");
                var result = manager.LoadLoraWeightsWithResult(r.Loras[i], sources[i]);
                string? own = result.AdapterNames.Keys.FirstOrDefault(LoraComponents.IsDenoiser);
                if (own is null)
                    throw new CliFailure($"--lora {r.Loras[i]}: has no unet or transformer modules; merge combines the denoiser's adapters");
                if (denoiser is not null && own != denoiser)
                    throw new CliFailure($"--lora {r.Loras[i]}: is a {own} LoRA, but the first is a {denoiser} LoRA; they cannot be merged");
                denoiser = own;
                foreach (var other in result.AdapterNames.Keys.Where(c => c != own))
                    leftOut.Add($"{r.Loras[i]}: its {other} part is not merged (add_weighted_adapter merges the {own} only)");
            }
            foreach (var note in leftOut) progress.Warning(note);

            if (r.Model is null && CombinationTypes.IsRandom(r.Type))
            {
                var unknown = manager[denoiser!].LayerPaths.FirstOrDefault(p => !DiffusersModuleOrder.IsKnown(p));
                if (unknown is not null)
                    throw new CliFailure($"cannot tell the model's module order at '{unknown}' from the LoRAs alone, and {CombinationTypes.PeftName(r.Type)}'s " +
                                         "random masks depend on it; pass --model <pipeline folder>");
            }

            progress.Stage($"merging ({CombinationTypes.PeftName(r.Type)})");
            try
            {
                manager.AddWeightedAdapter(sources, r.Weights, r.Name, new LoraMergeOptions
                {
                    CombinationType = r.Type,
                    Density = r.Density,
                    SvdRank = r.SvdRank,
                    MajoritySignMethod = r.MajoritySign,
                    Seed = r.Seed,
                });
            }
            catch (LoraMergeException e) when (e.Kind == LoraMergeErrorKind.RankMismatch)
            {
                // PEFT's message says "r value"; name the files and their ranks too.
                var ranks = sources.Select((s, i) => $"{r.Loras[i]}: rank {manager[denoiser!].GetAdapterConfig(s).AdapterRankValue.ToString(CultureInfo.InvariantCulture)}");
                throw new CliFailure($"the adapters' ranks differ ({string.Join("; ", ranks)}) and {CombinationTypes.PeftName(r.Type)} needs equal ranks " +
                                     $"(cat and the svd types do not): {e.Message}");
            }

            progress.Stage($"writing {r.Out}");
            var component = manager[denoiser!];
            var config = component.GetAdapterConfig(r.Name);
            int modules = component.GetAdapterModulePaths(r.Name).Count;
            if (r.Peft)
            {
                CliOutputFolder.Write(r.Out, folder => manager.SavePeftAdapter(folder, r.Name, denoiser));
            }
            else
            {
                string full = Path.GetFullPath(r.Out);
                manager.SaveLoraWeights(Path.GetDirectoryName(full)!, r.Name, Path.GetFileName(full));
            }
            progress.Finish();

            string seed = CombinationTypes.IsRandom(r.Type) ? $", seed {r.Seed!.Value.ToString(CultureInfo.InvariantCulture)}" : "";
            context.Output.WriteLine($"wrote {r.Out} ({CombinationTypes.PeftName(r.Type)} of {r.Loras.Count} LoRA(s), {denoiser} {modules} modules, " +
                                     $"rank {config.R.ToString(CultureInfo.InvariantCulture)}{seed}{(r.Peft ? ", PEFT folder" : "")})");
            return ExitCodes.Ok;
        }
        finally
        {
            pipeline?.Dispose();
        }
    }

    private Request ReadRequest(CliContext c)
    {
        var loras = c.Get(_loras);
        var weights = c.Parse.GetValue(_weights);
        if (weights is { Length: 0 }) weights = null; // System.CommandLine gives an absent array option an empty array
        string typeName = c.Parse.GetValue(_combination)!;
        if (!CombinationTypes.TryParse(typeName, out var type)) throw new UsageException($"--combination must be a PEFT combination type, not '{typeName}'");
        double? density = c.Parse.GetValue(_density);
        int? svdRank = c.Parse.GetValue(_svdRank);
        string? sign = c.Parse.GetValue(_majoritySign);
        long? seed = c.Parse.GetValue(_seed);
        string name = c.Parse.GetValue(_name) ?? DefaultName;

        // generate and fuse take path:weight; merge's weights are PEFT's list, so a suffix is a mistake, not a file name.
        foreach (var lora in loras)
        {
            if (!File.Exists(lora) && !Directory.Exists(lora) && LoraSpec.HasWeightSuffix(lora, out string path))
                throw new UsageException($"--lora {lora}: merge takes no weight after the path; give the adapters' weights with --weights " +
                                         $"(one per --lora, e.g. --weights 0.5,1.0) and the path alone (--lora {path})");
        }
        if (weights is not null && weights.Length != loras.Length)
            throw new UsageException($"--weights has {weights.Length} value(s) but there are {loras.Length} --lora; give one weight per adapter");
        string peftName = CombinationTypes.PeftName(type);
        if (CombinationTypes.UsesDensity(type) && density is null)
            throw new UsageException($"--density is required for --combination {peftName} (PEFT's `density`: the fraction of weights to keep, e.g. 0.5)");
        if (!CombinationTypes.UsesDensity(type) && density is not null)
            throw new UsageException($"--density applies to the pruning types (ties, dare_*, magnitude_prune), not to {peftName}");
        if (CombinationTypes.UsesDensity(type) && density <= 0)
            throw new UsageException($"--density must be greater than 0 for {peftName}, not {density.Value.ToString(CultureInfo.InvariantCulture)}");
        if (svdRank is not null && !CombinationTypes.IsSvd(type))
            throw new UsageException($"--svd-rank applies to the svd types (svd, ties_svd, dare_*_svd, magnitude_prune_svd), not to {peftName}");
        if (sign is not null && !CombinationTypes.UsesMajoritySign(type))
            throw new UsageException($"--majority-sign applies to the ties types (ties, dare_ties and their _svd forms), not to {peftName}");
        if (seed is not null && !CombinationTypes.IsRandom(type))
            throw new UsageException($"--seed applies to the DARE types (dare_linear, dare_ties and their _svd forms), not to {peftName}");
        if (name.Length == 0 || name == "." || name == ".." || name.IndexOfAny(new[] { '/', '\\', '\0' }) >= 0)
            throw new UsageException($"--name must be a plain adapter name (no path separators), not '{name}'");
        var majority = MajoritySignMethod.Total;
        if (sign is not null && !MajoritySignMethods.TryParse(sign, out majority))
            throw new UsageException($"--majority-sign must be total or frequency, not '{sign}'");

        var r = new Request
        {
            Loras = loras,
            Weights = weights ?? Enumerable.Repeat(1.0, loras.Length).ToArray(),
            Type = type,
            Density = density,
            SvdRank = svdRank,
            MajoritySign = majority,
            Seed = CombinationTypes.IsRandom(type) ? seed ?? RandomNumberGenerator.GetInt32(int.MaxValue) : null,
            Name = name,
            Model = c.Parse.GetValue(_model),
            Peft = c.Get(_peft),
            Out = c.Get(_out),
            Quiet = c.Get(_quiet),
        };

        foreach (var lora in r.Loras)
            CliPaths.RequireFileOrFolder(lora, "--lora", "a LoRA .safetensors file, a folder holding one, or a PEFT adapter folder");
        if (r.Model is not null) CliPaths.RequireFolder(r.Model, "--model", "a diffusers pipeline folder with model_index.json");
        var inputs = r.Loras.Select(l => ((string?)l, "--lora")).Append((r.Model, "--model")).ToList();
        CliPaths.RequireNotAnInput(r.Out, "--out", inputs);
        if (r.Peft)
            CliOutputFolder.RequireReplaceable(r.Out, "--out", IsPeftFolder, "a PEFT adapter folder");
        else
            CliPaths.RequireWritableFile(r.Out, "--out", "a .safetensors file path (or pass --peft for a folder)");
        return r;
    }

    private static bool IsPeftFolder(string folder) =>
        File.Exists(Path.Combine(folder, LoraFileModel.PeftConfigFileName))
        || Directory.EnumerateDirectories(folder).Any(d => File.Exists(Path.Combine(d, LoraFileModel.PeftConfigFileName)));

    /// <summary>Names the sources are loaded under: never the merged adapter's name.</summary>
    private static List<string> SourceNames(int count, string merged)
    {
        string prefix = "merge_source_";
        while (merged.StartsWith(prefix, StringComparison.Ordinal)) prefix = "_" + prefix;
        return Enumerable.Range(0, count).Select(i => prefix + i.ToString(CultureInfo.InvariantCulture)).ToList();
    }

    private static Option<string?> RequiredChoice(Option<string?> option)
    {
        option.Required = true;
        return option;
    }

    private sealed class Request
    {
        public IReadOnlyList<string> Loras { get; init; } = Array.Empty<string>();
        public IReadOnlyList<double> Weights { get; init; } = Array.Empty<double>();
        public CombinationType Type { get; init; }
        public double? Density { get; init; }
        public int? SvdRank { get; init; }
        public MajoritySignMethod MajoritySign { get; init; }
        public long? Seed { get; init; }
        public string Name { get; init; } = DefaultName;
        public string? Model { get; init; }
        public bool Peft { get; init; }
        public string Out { get; init; } = "";
        public bool Quiet { get; init; }
    }
}
