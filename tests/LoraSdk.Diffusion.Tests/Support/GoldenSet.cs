using System;
using System.Collections.Concurrent;
using System.IO;
using LoraSdk.Core;
using LoraSdk.IO;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Support;

/// <summary>
/// One goldens folder (<c>goldens.safetensors</c> + <c>goldens.json</c>) of the diffusers reference fixtures. Use
/// <see cref="Reference"/> (tests/fixtures), <see cref="Prompt"/> (tests/fixtures-prompt), <see cref="Flux"/>
/// (tests/fixtures-flux) or <see cref="SeedFlows"/> (tests/fixtures-seed-flows). Tensors are loaded on
/// demand and owned by the caller.
/// </summary>
internal sealed class GoldenSet
{
    private static readonly ConcurrentDictionary<string, GoldenSet> Cache = new();
    private readonly Lazy<JsonValue> _json;
    private readonly string _tensorPath;

    private GoldenSet(string folder)
    {
        Folder = folder;
        _tensorPath = Path.Combine(folder, "goldens.safetensors");
        _json = new Lazy<JsonValue>(() => JsonValue.Parse(File.ReadAllText(Path.Combine(folder, "goldens.json"))));
    }

    /// <summary>The goldens of tests/fixtures (UNet, text encoders, 3-step pipeline, merges).</summary>
    public static GoldenSet Reference => Cache.GetOrAdd(RepoPaths.Fixtures, f => new GoldenSet(f));

    /// <summary>The goldens of tests/fixtures-prompt (encode_prompt, per-step latents, images, RNG probes).</summary>
    public static GoldenSet Prompt => Cache.GetOrAdd(RepoPaths.FixturesPrompt, f => new GoldenSet(f));

    /// <summary>The goldens of tests/fixtures-flux (Flux transformer, text encoders, tokenizers, pipeline).</summary>
    public static GoldenSet Flux => Cache.GetOrAdd(RepoPaths.FixturesFlux, f => new GoldenSet(f));

    /// <summary>The goldens of tests/fixtures-dora (PEFT DoRA on the tiny SDXL UNet).</summary>
    public static GoldenSet Dora => Cache.GetOrAdd(RepoPaths.FixturesDora, f => new GoldenSet(f));

    /// <summary>The goldens of tests/fixtures-seed-flows (PEFT adapter folders and merges, fuse → unload → save_pretrained → reload).</summary>
    public static GoldenSet SeedFlows => Cache.GetOrAdd(RepoPaths.FixturesSeedFlows, f => new GoldenSet(f));

    /// <summary>The folder.</summary>
    public string Folder { get; }

    /// <summary>The parsed <c>goldens.json</c>.</summary>
    public JsonValue Json => _json.Value;

    /// <summary>True when <c>goldens.safetensors</c> holds <paramref name="key"/>.</summary>
    public bool Has(string key)
    {
        using var file = SafetensorsFile.Open(_tensorPath);
        return file.Header.Contains(key);
    }

    /// <summary>Loads the tensor <paramref name="key"/> (a copy the caller owns).</summary>
    public Tensor Tensor(string key)
    {
        using var file = SafetensorsFile.Open(_tensorPath);
        using var raw = file.Load(key);
        return raw.clone();
    }

    /// <summary>Navigates <c>goldens.json</c> by property names; throws naming the path when absent.</summary>
    public JsonValue Node(params string[] path)
    {
        JsonValue node = Json;
        foreach (var name in path)
            node = node[name] ?? throw new InvalidOperationException($"goldens.json in {Folder} has no '{string.Join("/", path)}'");
        return node;
    }
}
