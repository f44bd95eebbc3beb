using System;
using System.IO;
using System.Linq;
using LoraSdk.Core;
using LoraSdk.Generators.Binding;
using LoraSdk.Generators.Parsing;
using LoraSdk.Generators.Tests.Infrastructure;

namespace LoraSdk.Generators.Tests;

/// <summary>Things that exist twice and must agree: the JSON Schema vs the parser, the rank markers, the CLIP budget vs CLIP.</summary>
public class ConsistencyTests
{
    private static readonly JsonValue Schema =
        JsonValue.Parse(File.ReadAllText(RepoPaths.Combine("generators", "LoraSdk.Generators", "adapters.manifest.schema.json")));

    private static string[] Keys(JsonValue objectSchema) => objectSchema["properties"]!.Properties.Select(p => p.Key).OrderBy(k => k, StringComparer.Ordinal).ToArray();

    private static string[] Sorted(params string[] names) => names.OrderBy(k => k, StringComparer.Ordinal).ToArray();

    private static string[] Enum(JsonValue schema) => schema["enum"]!.Items.Select(i => i.AsString()).ToArray();

    [Fact]
    public void SchemaPropertiesAndEnumsMatchTheParser()
    {
        var root = Schema;
        Assert.Equal(Sorted(ManifestParser.RootProperties), Keys(root));
        var adapter = root["properties"]!["adapters"]!["items"]!;
        Assert.Equal(Sorted(ManifestParser.AdapterProperties), Keys(adapter));
        var group = root["properties"]!["hotswapGroups"]!["items"]!;
        Assert.Equal(Sorted(ManifestParser.GroupProperties), Keys(group));
        var merge = root["properties"]!["merges"]!["items"]!;
        Assert.Equal(Sorted(ManifestParser.MergeProperties), Keys(merge));
        var baseModel = root["properties"]!["baseModel"]!["oneOf"]!;
        Assert.Equal(ManifestParser.BuiltInBaseModels.Keys.OrderBy(k => k), Enum(baseModel.Items[0]).OrderBy(k => k));
        Assert.Equal(Sorted(ManifestParser.BaseModelProperties), Keys(baseModel.Items[1]));

        Assert.Equal(ManifestParser.Prefixes, Enum(adapter["properties"]!["prefix"]!));
        Assert.Equal(ManifestParser.TriggerWordsModes, Enum(adapter["properties"]!["triggerWordsMode"]!));
        Assert.Equal(ManifestParser.CombinationTypes, Enum(merge["properties"]!["combinationType"]!));
        Assert.Equal(LoraSdk.Core.CombinationTypes.All.Select(LoraSdk.Core.CombinationTypes.PeftName), ManifestParser.CombinationTypes);
        Assert.Equal(ManifestParser.MajoritySignMethods, Enum(merge["properties"]!["majoritySignMethod"]!));
        Assert.Equal(new[] { "namespace", "baseModel", "adapters" }, root["required"]!.Items.Select(i => i.AsString()));
    }

    [Fact]
    public void TheRepositoryAndSampleManifestsPassTheParser()
    {
        foreach (var path in new[] { RepoPaths.Combine("adapters.manifest"), RepoPaths.Combine("samples", "TypedAdapters", "adapters.manifest") })
        {
            var spec = ManifestParser.Parse(path, File.ReadAllText(path));
            Assert.False(spec.IsFatal, path);
            Assert.Empty(spec.Diagnostics);
            Assert.NotEmpty(spec.Adapters);
        }
    }

    [Fact]
    public void RankMarkerTypesExistExactlyForTheSupportedRanks()
    {
        var typed = typeof(LoraSdk.Typed.Ranks.RankMarker).Assembly;
        for (int rank = 0; rank <= 2048; rank++)
        {
            bool supported = LoraSdk.Core.RankMarkerRanks.IsSupported(rank);
            Assert.Equal(supported, LoraSdk.Typed.Ranks.RankMarkers.IsSupported(rank));
            Assert.Equal(supported, typed.GetType($"LoraSdk.Typed.Ranks.Rank{rank}") != null);
        }
    }

    [Theory]
    [InlineData("a photo of a cat", 5)]
    [InlineData("it's a 3d render!!!", 7)]
    [InlineData("hello, world", 3)]
    [InlineData("  ", 0)]
    [InlineData("日本 style", 2)]
    public void ClipPreTokenCounts(string text, int expected) => Assert.Equal(expected, ClipTokenBudget.CountLowerBound(text));

    [Fact]
    public void ClipBudgetIsALowerBoundOfTheRealTokenizer()
    {
        // tokenizer_goldens.json: CLIPTokenizer ids of 41 prompts (README of the fixtures); ids include start and end tokens.
        var cases = JsonValue.Parse(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "tokenizer_goldens.json")))["cases"]!.Items;
        Assert.True(cases.Count >= 40);
        int exact = 0;
        foreach (var c in cases)
        {
            string prompt = c["prompt"]!.AsString();
            int tokens = c["input_ids_unpadded"]!.Items.Count - 2;
            int bound = ClipTokenBudget.CountLowerBound(prompt);
            Assert.True(bound <= tokens, $"'{prompt}': bound {bound} > {tokens} tokens");
            if (bound == tokens) exact++;
        }
        Assert.True(exact > cases.Count / 2, $"the bound is exact for only {exact} of {cases.Count} prompts");
    }
}
