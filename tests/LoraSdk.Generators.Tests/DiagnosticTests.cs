using System.Linq;
using LoraSdk.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using static LoraSdk.Generators.Tests.Infrastructure.DiagnosticAssert;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// One negative test (exact ID, severity, message and manifest location) and one positive test (the nearest case
/// that must not report) per diagnostic ID. Sidecars are hand-written, so no adapter file is needed.
/// </summary>
public class DiagnosticTests
{
    private static string Manifest(string adapters, string extra = "", string baseModel = "\"sdxl\"") =>
        "{\n" +
        "  \"namespace\": \"Demo\",\n" +
        $"  \"baseModel\": {baseModel},\n" +
        "  \"adapters\": [\n" +
        adapters + "\n" +
        "  ]" + extra + "\n" +
        "}\n";

    private static string Entry(string name, string file, string more = "") =>
        $"    {{ \"name\": \"{name}\", \"file\": \"{file}\"{more} }}";

    /// <summary>A clean sidecar: rank/alpha on <paramref name="blocks"/>×4 attention modules, with a trigger word.</summary>
    private static SidecarJson Lora(string file, int rank = 4, double alpha = 4, int blocks = 2) =>
        GeneratorHarness.Sidecar(file).Unet(Modules.Attention(blocks), rank, alpha).TriggerWords("tw");

    private static GeneratorOutcome Run(string manifest, params SidecarJson[] sidecars) => GeneratorHarness.Run(manifest, sidecars);

    // ---------------- LSDK001 ----------------

    [Fact]
    public void Lsdk001_InvalidJson()
    {
        string m = "{\n  \"namespace\": \"Demo\",\n  \"adapters\": [],\n}\n";
        var d = Only(Run(m), "LSDK001").Single();
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.StartsWith("invalid JSON: ", d.GetMessage());
        Assert.Equal(4, d.Location.GetLineSpan().StartLinePosition.Line + 1);
    }

    [Fact]
    public void Lsdk001_SchemaViolationsAtTheirValues()
    {
        string m = Manifest(Entry("A", "a.safetensors", ", \"defaultWeight\": \"high\", \"nmae\": 1"), ",\n  \"hotswapGroups\": [ { \"name\": \"G\", \"members\": [\"Nobody\"] } ]");
        var ds = Only(Run(m, Lora("a.safetensors")), "LSDK001", 3);
        Assert.Equal("adapters[0].defaultWeight must be a number, not the string \"high\"", ds[0].GetMessage());
        At(ds[0], m, 5, "\"high\"");
        Assert.Equal("adapters[0] has an unknown property \"nmae\" (allowed: \"name\", \"file\", \"subfolder\", \"prefix\", \"triggerWords\", \"triggerWordsMode\", \"defaultWeight\")", ds[1].GetMessage());
        At(ds[1], m, 5, "1");
        Assert.Equal("Hotswap group 'G' names the unknown adapter 'Nobody'", ds[2].GetMessage());
        At(ds[2], m, 7, "\"Nobody\"");
    }

    [Fact]
    public void Lsdk001_MissingRequiredMemberAndUnreadableBaseModelConfig()
    {
        string m = "{ \"baseModel\": \"sdxl\", \"adapters\": [] }";
        var d = Only(Run(m), "LSDK001").Single();
        Assert.Equal("the manifest has no \"namespace\"", d.GetMessage());
        At(d, m, 1, "{ \"baseModel\": \"sdxl\", \"adapters\": [] }");

        string custom = Manifest(Entry("A", "a.safetensors"), baseModel: "{ \"name\": \"Custom\", \"unetConfig\": \"missing.json\" }");
        var c = Only(Run(custom, Lora("a.safetensors").BaseModelError("unetConfig 'missing.json' could not be read (gone)")), "LSDK001").Single();
        Assert.Equal("baseModel: unetConfig 'missing.json' could not be read (gone)", c.GetMessage());
        At(c, custom, 3, "{ \"name\": \"Custom\", \"unetConfig\": \"missing.json\" }");
    }

    [Fact]
    public void Lsdk001_NotReportedForAManifestUsingEveryOption()
    {
        string m = Manifest(
            Entry("A", "a.safetensors", ", \"prefix\": \"unet\", \"triggerWords\": [\"x\"], \"triggerWordsMode\": \"replace\", \"defaultWeight\": -0.5") + ",\n" +
            Entry("B", "b.safetensors"),
            ",\n  \"catalog\": \"Loras\",\n  \"$schema\": \"s.json\",\n" +
            "  \"hotswapGroups\": [ { \"name\": \"G\", \"members\": [\"A\", \"B\"], \"targetRank\": 8 } ],\n" +
            "  \"merges\": [ { \"name\": \"M\", \"adapters\": [\"A\", \"B\"], \"weights\": [1, 2], \"combinationType\": \"dare_ties_svd\", \"density\": 0.3,\n" +
            "                \"svdRank\": 4, \"svdClamp\": 0.99, \"svdFullMatrices\": false, \"majoritySignMethod\": \"frequency\", \"seed\": 42 } ]",
            "{ \"name\": \"Custom\", \"unetConfig\": \"u.json\", \"textEncoderConfig\": \"t.json\", \"textEncoder2Config\": \"t2.json\", \"architecture\": \"sdxl\" }");
        var outcome = Run(m, Lora("a.safetensors"), Lora("b.safetensors", 8, 8));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Empty(outcome.CompilationErrors);
    }

    // ---------------- LSDK002 ----------------

    [Fact]
    public void Lsdk002_FileMissing()
    {
        string m = Manifest(Entry("A", "loras/gone.safetensors"));
        var d = Only(Run(m, Lora("loras/gone.safetensors").Missing()), "LSDK002").Single();
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("Adapter 'A': file 'loras/gone.safetensors' was not found at '/abs/loras/gone.safetensors'", d.GetMessage());
        At(d, m, 5, "\"loras/gone.safetensors\"");

        var noSidecar = Only(Run(m), "LSDK002").Single();
        Assert.StartsWith("Adapter 'A': file 'loras/gone.safetensors' has no header sidecar from the LoraSdk build step yet", noSidecar.GetMessage());
    }

    [Fact]
    public void Lsdk002_NotReportedWhenTheSidecarOfTheSameManifestExists()
    {
        string m = Manifest(Entry("A", "a.safetensors"));
        // A sidecar of another manifest for the same file string does not count.
        var foreign = SidecarJson.For("/elsewhere/adapters.manifest", "a.safetensors").Unet(Modules.Attention(1), 4, 4).TriggerWords("t");
        Assert.Single(Run(m, foreign).Diagnostics("LSDK002"));
        var outcome = Run(m, Lora("a.safetensors"));
        None(outcome, "LSDK002");
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
    }

    [Fact]
    public void Lsdk002_SidecarOfAnotherFormatVersion()
    {
        string m = Manifest(Entry("A", "a.safetensors"));
        string v3 = Lora("a.safetensors").ToJson().Replace("\"lorasdkSidecar\": 5", "\"lorasdkSidecar\": 3");
        var texts = GeneratorHarness.Inputs(m, System.Array.Empty<SidecarJson>());
        texts.Add(new InMemoryAdditionalText("/project/obj/lorasdk/adapters.manifest-00000000/a.safetensors-0.lorasdk.json", v3));
        var d = Only(GeneratorHarness.Run(texts), "LSDK002").Single();
        Assert.Equal("Adapter 'A': file 'a.safetensors' could not be inspected: the header sidecar '/project/obj/lorasdk/adapters.manifest-00000000/a.safetensors-0.lorasdk.json' " +
                     "has format version 3, this generator reads version 5 (the LoraSdk build task and generator come from different versions; rebuild with matching LoraSdk.Generators)",
            d.GetMessage());
        At(d, m, 5, "\"a.safetensors\"");
    }

    // ---------------- LSDK003 ----------------

    [Fact]
    public void Lsdk003_InvalidHeaderWithTheReason()
    {
        string m = Manifest(Entry("A", "bad.safetensors") + ",\n" + Entry("B", "b.safetensors"));
        var ds = Only(Run(m,
            Lora("bad.safetensors").HeaderError("/abs/bad.safetensors: header length 1000000 exceeds the file length 64"),
            Lora("b.safetensors").Invalid("unet", "mid_block.attentions.0.proj_in", "lora_A has rank 4 but lora_B has rank 8")), "LSDK003", 2);
        Assert.Equal("Adapter 'A': 'bad.safetensors' is not a valid safetensors LoRA file: /abs/bad.safetensors: header length 1000000 exceeds the file length 64", ds[0].GetMessage());
        At(ds[0], m, 5, "\"bad.safetensors\"");
        Assert.Equal("Adapter 'B': 'b.safetensors' is not a valid safetensors LoRA file: 1 malformed module(s), e.g. 'unet: mid_block.attentions.0.proj_in': lora_A has rank 4 but lora_B has rank 8", ds[1].GetMessage());
        At(ds[1], m, 6, "\"b.safetensors\"");
    }

    [Fact]
    public void Lsdk003_NotReportedForAValidHeader()
    {
        var outcome = Run(Manifest(Entry("A", "a.safetensors")), Lora("a.safetensors"));
        None(outcome, "LSDK003");
        Assert.Single(outcome.Sources, s => s.HintName == "Demo.Adapters.A.g.cs");
    }

    // ---------------- LSDK004 ----------------

    [Fact]
    public void Lsdk004_ErrorWhenNoKeyMapsForAComponent()
    {
        string m = Manifest(Entry("A", "a.safetensors", ", \"prefix\": \"text_encoder\"") + ",\n" + Entry("B", "b.safetensors"));
        var b = GeneratorHarness.Sidecar("b.safetensors").TriggerWords("t").Unet(new[] { "foo.bar" }, 4, 4)
            .Compatibility("unet", "foo.bar", "the base model has no such layer", missing: true);
        var ds = Only(Run(m, Lora("a.safetensors"), b), "LSDK004", 2);
        Assert.All(ds, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        Assert.Equal("Adapter 'A': no LoRA key of 'a.safetensors' maps to a known layer of component 'text_encoder'", ds[0].GetMessage());
        At(ds[0], m, 5, "\"text_encoder\"");
        Assert.Equal("Adapter 'B': no LoRA key of 'b.safetensors' maps to a known layer of component 'unet' of the base model 'Sdxl'", ds[1].GetMessage());
        At(ds[1], m, 6, "\"b.safetensors\"");
    }

    [Fact]
    public void Lsdk004_NotReportedWhenEveryKeyMaps()
    {
        var outcome = Run(Manifest(Entry("A", "a.safetensors", ", \"prefix\": \"unet\"")), Lora("a.safetensors").Component("text_encoder", Modules.TextEncoder(1), 4, 4));
        None(outcome, "LSDK004");
        None(outcome, "LSDK013");
    }

    // ---------------- LSDK005 ----------------

    [Fact]
    public void Lsdk005_UnsupportedVariant()
    {
        string m = Manifest(Entry("A", "kdora.safetensors"));
        var d = Only(Run(m, Lora("kdora.safetensors").Unsupported("dora_scale", "lora_unet_x.dora_scale", "lora_unet_x.lora_down.weight")), "LSDK005").Single();
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("Adapter 'A': 'kdora.safetensors' uses the unsupported variant 'dora_scale' (2 key(s), e.g. 'lora_unet_x.dora_scale')", d.GetMessage());
        At(d, m, 5, "\"kdora.safetensors\"");
    }

    [Fact]
    public void Lsdk005_NotReportedForPlainLoraOrTheVariantsTheEngineApplies()
    {
        None(Run(Manifest(Entry("A", "a.safetensors")), Lora("a.safetensors")), "LSDK005");
        string m = Manifest(Entry("A", "loha.safetensors") + ",\n" + Entry("B", "lokr.safetensors") + ",\n" + Entry("C", "dora.safetensors"));
        var outcome = Run(m, Lora("loha.safetensors").Variants("unet", "loha"), Lora("lokr.safetensors").Variants("unet", "lokr"),
            Lora("dora.safetensors").Variants("unet", "dora"));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Empty(outcome.CompilationErrors);
    }

    // ---------------- LSDK006 ----------------

    [Fact]
    public void Lsdk006_ArchitectureMismatch()
    {
        string m = Manifest(Entry("A", "sd15.safetensors") + ",\n" + Entry("B", "shapes.safetensors"));
        var ds = Only(Run(m,
            Lora("sd15.safetensors").Declared("sd15").Implied("sd15"),
            Lora("shapes.safetensors").Compatibility("unet", "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k",
                "the adapter maps 768 -> 640 features but the base layer maps 2048 -> 640", missing: false)), "LSDK006", 2);
        Assert.Equal("Adapter 'A': the file declares the architecture 'sd15'; its tensor shapes imply 'sd15', but the manifest's base model is 'sdxl'", ds[0].GetMessage());
        At(ds[0], m, 5, "\"sd15.safetensors\"");
        Assert.Equal("Adapter 'B': 1 layer(s) do not fit the base model (e.g. 'unet: down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k': " +
                     "the adapter maps 768 -> 640 features but the base layer maps 2048 -> 640), but the manifest's base model is 'sdxl'", ds[1].GetMessage());
    }

    [Fact]
    public void Lsdk006_NotReportedWhenArchitecturesAgreeOrAreUnknown()
    {
        string m = Manifest(Entry("A", "a.safetensors") + ",\n" + Entry("B", "b.safetensors"));
        var outcome = Run(m, Lora("a.safetensors").Declared("SDXL").Implied("sdxl"), Lora("b.safetensors"));
        None(outcome, "LSDK006");
        // A custom base model: the architecture it declares is what implied architectures must match; without one, nothing is.
        string custom = Manifest(Entry("A", "a.safetensors"), baseModel: "{ \"name\": \"TinySdxl\", \"architecture\": \"sdxl\" }");
        None(Run(custom, Lora("a.safetensors").Implied("sdxl")), "LSDK006");
        Assert.Single(Run(custom, Lora("a.safetensors").Implied("sd15")).Diagnostics("LSDK006"));
        None(Run(custom.Replace(", \"architecture\": \"sdxl\"", ""), Lora("a.safetensors").Implied("sd15")), "LSDK006");
    }

    // ---------------- LSDK007 ----------------

    [Fact]
    public void Lsdk007_MemberOutsideFirstMember()
    {
        string m = Manifest(Entry("Wide", "wide.safetensors") + ",\n" + Entry("Other", "other.safetensors"),
            ",\n  \"hotswapGroups\": [ { \"name\": \"Slot\", \"members\": [\"Other\", \"Wide\"] } ]");
        var d = Only(Run(m,
            Lora("wide.safetensors", blocks: 4),
            GeneratorHarness.Sidecar("other.safetensors").TriggerWords("t").Unet(Modules.Attention(2, "attn2.to_k"), 4, 4)), "LSDK007").Single();
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("Hotswap group 'Slot': member 'Other' targets 2 layer(s) that the group's first member 'Wide' does not " +
                     "(e.g. 'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k')", d.GetMessage());
        At(d, m, 8, "\"Other\"");
    }

    [Fact]
    public void Lsdk007_NotReportedForSubsetsAndUnetPrefixedMembers()
    {
        string m = Manifest(Entry("Small", "small.safetensors") + ",\n" + Entry("Wide", "wide.safetensors") + ",\n" +
                            Entry("Te", "te.safetensors", ", \"prefix\": \"unet\""),
            ",\n  \"hotswapGroups\": [ { \"name\": \"Slot\", \"members\": [\"Small\", \"Wide\", \"Te\"] } ]");
        var outcome = Run(m, Lora("small.safetensors", blocks: 1), Lora("wide.safetensors", blocks: 4),
            Lora("te.safetensors", blocks: 2).Component("text_encoder", Modules.TextEncoder(1), 4, 4));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Contains("{ global::Demo.Adapters.Wide, global::Demo.Adapters.Te, global::Demo.Adapters.Small }",
            outcome.Sources.Single(s => s.HintName == "Demo.HotswapGroups.Slot.g.cs").SourceText.ToString());
    }

    // ---------------- LSDK008 ----------------

    [Fact]
    public void Lsdk008_TargetRankBelowAMembersRank()
    {
        string m = Manifest(Entry("A", "a.safetensors") + ",\n" + Entry("B", "b.safetensors"),
            ",\n  \"hotswapGroups\": [ { \"name\": \"Slot\", \"members\": [\"A\", \"B\"], \"targetRank\": 4 } ]");
        var bigger = GeneratorHarness.Sidecar("b.safetensors").TriggerWords("t").Unet(Modules.Attention(1), 16, 16);
        var d = Only(Run(m, Lora("a.safetensors", blocks: 2), bigger), "LSDK008").Single();
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("Hotswap group 'Slot': targetRank 4 is below the rank 16 of member 'B'", d.GetMessage());
        At(d, m, 8, "4");
    }

    [Fact]
    public void Lsdk008_NotReportedAtExactlyTheLargestRankOrForMax()
    {
        string exact = Manifest(Entry("A", "a.safetensors") + ",\n" + Entry("B", "b.safetensors"),
            ",\n  \"hotswapGroups\": [ { \"name\": \"Slot\", \"members\": [\"A\", \"B\"], \"targetRank\": 16 } ]");
        var sidecars = new[] { Lora("a.safetensors", blocks: 2), GeneratorHarness.Sidecar("b.safetensors").TriggerWords("t").Unet(Modules.Attention(1), 16, 16) };
        None(Run(exact, sidecars), "LSDK008");
        var max = Run(exact.Replace("\"targetRank\": 16", "\"targetRank\": \"max\""), sidecars);
        None(max, "LSDK008");
        Assert.Contains("public override int TargetRank => 16;", max.Sources.Single(s => s.HintName == "Demo.HotswapGroups.Slot.g.cs").SourceText.ToString());
    }

    // ---------------- LSDK009 ----------------

    [Fact]
    public void Lsdk009_EqualRankMergeOfDifferentRanks()
    {
        string m = Manifest(Entry("A", "a.safetensors") + ",\n" + Entry("B", "b.safetensors"),
            ",\n  \"merges\": [ { \"name\": \"M\", \"adapters\": [\"A\", \"B\"], \"weights\": [1, 1], \"combinationType\": \"dare_linear\", \"density\": 0.5 } ]");
        var d = Only(Run(m, Lora("a.safetensors", 4), Lora("b.safetensors", 8)), "LSDK009").Single();
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("Merge 'M': combination type 'dare_linear' needs adapters of equal rank, but 'A' has rank 4 and 'B' has rank 8", d.GetMessage());
        At(d, m, 8, "\"B\"");
    }

    [Fact]
    public void Lsdk009_NotReportedForCatSvdOrEqualRanks()
    {
        string Merge(string type) => Manifest(Entry("A", "a.safetensors") + ",\n" + Entry("B", "b.safetensors"),
            $",\n  \"merges\": [ {{ \"name\": \"M\", \"adapters\": [\"A\", \"B\"], \"weights\": [1, 1], \"combinationType\": \"{type}\", \"density\": 0.5 }} ]");
        foreach (var type in new[] { "cat", "svd", "ties_svd", "dare_linear_svd", "dare_ties_svd", "magnitude_prune_svd" })
            None(Run(Merge(type), Lora("a.safetensors", 4), Lora("b.safetensors", 8)), "LSDK009");
        // An adapter's rank is PEFT's max(r, *rank_pattern.values()): a module of a smaller rank leaves it at 4 ...
        var equal = Run(Merge("magnitude_prune"), Lora("a.safetensors", 4), Lora("b.safetensors", 4).Unet(new[] { "mid_block.attentions.0.proj_in" }, 2, 2));
        Assert.True(equal.GeneratorDiagnostics.IsEmpty, equal.Describe());
    }

    [Fact]
    public void Lsdk009_ComparesTheLargestModuleRankAsPeftDoes()
    {
        // ... but one module of rank 16 makes B a rank-16 adapter, which PEFT refuses to merge with a rank-4 one, so
        // the build refuses it too (before, the most common rank was compared and the merge failed only at run time).
        string m = Manifest(Entry("A", "a.safetensors") + ",\n" + Entry("B", "b.safetensors"),
            ",\n  \"merges\": [ { \"name\": \"M\", \"adapters\": [\"A\", \"B\"], \"weights\": [1, 1], \"combinationType\": \"magnitude_prune\", \"density\": 0.5 } ]");
        var d = Only(Run(m, Lora("a.safetensors", 4), Lora("b.safetensors", 4).Unet(new[] { "mid_block.attentions.0.proj_in" }, 16, 16)), "LSDK009").Single();
        Assert.Equal("Merge 'M': combination type 'magnitude_prune' needs adapters of equal rank, but 'A' has rank 4 and 'B' has rank 16", d.GetMessage());
    }

    // ---------------- LSDK010 ----------------

    [Fact]
    public void Lsdk010_DensityOutOfRangeMissingOrWeightsCountWrong()
    {
        string m = Manifest(Entry("A", "a.safetensors") + ",\n" + Entry("B", "b.safetensors"),
            ",\n  \"merges\": [\n" +
            "    { \"name\": \"M1\", \"adapters\": [\"A\", \"B\"], \"weights\": [1, 1], \"combinationType\": \"ties\", \"density\": 1.5 },\n" +
            "    { \"name\": \"M2\", \"adapters\": [\"A\", \"B\"], \"weights\": [1], \"combinationType\": \"linear\" },\n" +
            "    { \"name\": \"M3\", \"adapters\": [\"A\", \"B\"], \"weights\": [1, 1], \"combinationType\": \"magnitude_prune\" },\n" +
            "    { \"name\": \"M4\", \"adapters\": [\"A\", \"B\"], \"weights\": [1, 1], \"combinationType\": \"dare_ties\", \"density\": 0 }\n  ]");
        var ds = Only(Run(m, Lora("a.safetensors"), Lora("b.safetensors")), "LSDK010", 4);
        Assert.All(ds, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        Assert.Equal("Merge 'M1': density 1.5 is outside (0, 1]", ds[0].GetMessage());
        At(ds[0], m, 9, "1.5");
        Assert.Equal("Merge 'M2': 1 weight(s) for 2 adapter(s); give one weight per adapter", ds[1].GetMessage());
        At(ds[1], m, 10, "[1]");
        Assert.Equal("Merge 'M3': combination type 'magnitude_prune' needs a \"density\" in (0, 1]", ds[2].GetMessage());
        At(ds[2], m, 11, "\"magnitude_prune\"");
        Assert.Equal("Merge 'M4': density 0 is outside (0, 1]", ds[3].GetMessage());
        At(ds[3], m, 12, "0");
    }

    [Fact]
    public void Lsdk010_NotReportedForDensityOneOrNoDensityOnLinear()
    {
        string m = Manifest(Entry("A", "a.safetensors") + ",\n" + Entry("B", "b.safetensors"),
            ",\n  \"merges\": [ { \"name\": \"M1\", \"adapters\": [\"A\", \"B\"], \"weights\": [1, 0.5], \"combinationType\": \"ties\", \"density\": 1 },\n" +
            "               { \"name\": \"M2\", \"adapters\": [\"A\", \"B\"], \"weights\": [1, 0.5], \"combinationType\": \"linear\" } ]");
        var outcome = Run(m, Lora("a.safetensors"), Lora("b.safetensors"));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Equal(2, outcome.Sources.Count(s => s.HintName.StartsWith("Demo.Merges.")));
    }

    // ---------------- LSDK011 ----------------

    [Fact]
    public void Lsdk011_DuplicateInvalidKeywordOrReservedNames()
    {
        string m = Manifest(
            Entry("A", "a.safetensors") + ",\n" + Entry("A", "b.safetensors") + ",\n" + Entry("9lives", "c.safetensors") + ",\n" +
            Entry("class", "d.safetensors") + ",\n" + Entry("All", "e.safetensors"),
            ",\n  \"hotswapGroups\": [ { \"name\": \"A\", \"members\": [\"A\"] } ]");
        var ds = Only(Run(m, Lora("a.safetensors"), Lora("b.safetensors"), Lora("c.safetensors"), Lora("d.safetensors"), Lora("e.safetensors")), "LSDK011", 5);
        Assert.Equal("Adapter name 'A' is used more than once (first at line 5); adapter, hotswap group and merge names share the pipeline's adapter names", ds[0].GetMessage());
        At(ds[0], m, 6, "\"A\"");
        Assert.Equal("Adapter name '9lives' is not a valid C# identifier", ds[1].GetMessage());
        At(ds[1], m, 7, "\"9lives\"");
        Assert.Equal("Adapter name 'class' is not a valid C# identifier", ds[2].GetMessage());
        Assert.Equal("Adapter name 'All' collides with a member the generator declares in class Adapters", ds[3].GetMessage());
        Assert.Equal("Hotswap group name 'A' is used more than once (first at line 5); adapter, hotswap group and merge names share the pipeline's adapter names", ds[4].GetMessage());
        At(ds[4], m, 11, "\"A\"");
    }

    [Fact]
    public void Lsdk011_FormattingCharactersInANameAreRefused()
    {
        // C# drops formatting characters from identifiers: "A\u200B" would declare the member "A" a second time (CS0102).
        string m = Manifest(Entry("A", "a.safetensors") + ",\n" + Entry("A\\u200B", "b.safetensors"));
        var d = Only(Run(m, Lora("a.safetensors"), Lora("b.safetensors")), "LSDK011").Single();
        Assert.Equal("Adapter name 'A\u200B' is not a valid C# identifier", d.GetMessage());
        At(d, m, 6, "\"A\\u200B\"");
    }

    [Fact]
    public void Lsdk011_NotReportedForUnicodeAndUnderscoreIdentifiers()
    {
        var outcome = Run(Manifest(Entry("Über_Style", "a.safetensors") + ",\n" + Entry("_x2", "b.safetensors")), Lora("a.safetensors"), Lora("b.safetensors"));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Empty(outcome.CompilationErrors);
    }

    // ---------------- LSDK012 ----------------

    [Fact]
    public void Lsdk012_NoTriggerWords()
    {
        string m = Manifest(Entry("A", "a.safetensors"));
        var d = Only(Run(m, GeneratorHarness.Sidecar("a.safetensors").Unet(Modules.Attention(1), 4, 4)), "LSDK012").Single();
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal("Adapter 'A' has no trigger words (none in the file's metadata or the manifest)", d.GetMessage());
        At(d, m, 5, "\"A\"");
    }

    [Fact]
    public void Lsdk012_NotReportedForFileOrManifestTriggerWords()
    {
        string m = Manifest(Entry("A", "a.safetensors", ", \"triggerWords\": [\"x\"]") + ",\n" + Entry("B", "b.safetensors"));
        var outcome = Run(m, GeneratorHarness.Sidecar("a.safetensors").Unet(Modules.Attention(1), 4, 4), Lora("b.safetensors"));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
    }

    // ---------------- LSDK013 ----------------

    [Fact]
    public void Lsdk013_WarningListsUnmappedKeys()
    {
        string m = Manifest(Entry("A", "a.safetensors"));
        var keys = Enumerable.Range(0, 12).Select(i => $"lora_unet_mystery_{i:D2}.lora_down.weight").ToArray();
        var d = Only(Run(m, Lora("a.safetensors").Unmapped(keys)), "LSDK013").Single();
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal("Adapter 'A': 12 key(s) of 'a.safetensors' map to no known layer and will not be applied: " +
                     string.Join(", ", keys.Take(10).Select(k => "'" + k + "'")) + " and 2 more", d.GetMessage());
        At(d, m, 5, "\"a.safetensors\"");
    }

    [Fact]
    public void Lsdk013_ModulesWithoutABaseLayerNextToMappedOnes()
    {
        string m = Manifest(Entry("A", "a.safetensors"));
        var d = Only(Run(m, Lora("a.safetensors").Unet(new[] { "foo.bar" }, 4, 4)
            .Compatibility("unet", "foo.bar", "the base model has no such layer", missing: true)), "LSDK013").Single();
        Assert.Equal("Adapter 'A': 1 key(s) of 'a.safetensors' map to no known layer and will not be applied: 'unet: foo.bar'", d.GetMessage());
    }

    // ---------------- LSDK014 ----------------

    [Fact]
    public void Lsdk014_HotswapMemberWithATextEncoderPart()
    {
        string m = Manifest(Entry("Wide", "wide.safetensors") + ",\n" + Entry("Te", "te.safetensors"),
            ",\n  \"hotswapGroups\": [ { \"name\": \"Slot\", \"members\": [\"Wide\", \"Te\"] } ]");
        var d = Only(Run(m, Lora("wide.safetensors", blocks: 4),
            Lora("te.safetensors", blocks: 1).Component("text_encoder", Modules.TextEncoder(1), 4, 4)), "LSDK014").Single();
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("Hotswap group 'Slot': member 'Te' has a text-encoder part ('text_encoder'), which cannot be hotswapped; give it \"prefix\": \"unet\"", d.GetMessage());
        At(d, m, 8, "\"Te\"");
    }

    [Fact]
    public void Lsdk014_NotReportedForAUnetPrefixedMember()
    {
        string m = Manifest(Entry("Wide", "wide.safetensors") + ",\n" + Entry("Te", "te.safetensors", ", \"prefix\": \"unet\""),
            ",\n  \"hotswapGroups\": [ { \"name\": \"Slot\", \"members\": [\"Wide\", \"Te\"] } ]");
        var outcome = Run(m, Lora("wide.safetensors", blocks: 4), Lora("te.safetensors", blocks: 1).Component("text_encoder", Modules.TextEncoder(1), 4, 4));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
    }

    // ---------------- LSDK015 ----------------

    [Fact]
    public void Lsdk015_TriggerWordsExceedTheClipBudget()
    {
        string words = string.Join(", ", Enumerable.Range(0, 38).Select(i => $"\"w{i}\""));
        string m = Manifest(Entry("B", "b.safetensors", $", \"triggerWords\": [{words}]"));
        var d = Only(Run(m, GeneratorHarness.Sidecar("b.safetensors").Unet(Modules.Attention(1), 4, 4)), "LSDK015").Single();
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        // w0..w9 = 2 pieces each, w10..w37 = 3 pieces each (CLIP splits single digits), plus 37 commas: 20 + 84 + 37.
        Assert.Equal("Adapter 'B': its trigger words alone take at least 141 CLIP tokens, more than the 75 a 77-token prompt leaves", d.GetMessage());
        At(d, m, 5, "[" + words + "]");
    }

    [Fact]
    public void Lsdk015_NotReportedAtExactly75Tokens()
    {
        // 38 one-letter words joined by ", " = 38 words + 37 commas = 75 pieces.
        string words = string.Join(", ", Enumerable.Range(0, 38).Select(i => "\"" + (char)('a' + i % 26) + "\""));
        string m = Manifest(Entry("A", "a.safetensors", $", \"triggerWords\": [{words}]"));
        var outcome = Run(m, GeneratorHarness.Sidecar("a.safetensors").Unet(Modules.Attention(1), 4, 4));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
    }

    // ---------------- LSDK018 ----------------

    [Fact]
    public void Lsdk018_HotswapGroupAndMergeWithAdaptersThatAreNotPlainLora()
    {
        string m = Manifest(Entry("Ikea", "ikea.safetensors") + ",\n" + Entry("Hada", "hada.safetensors") + ",\n" + Entry("Kron", "kron.safetensors"),
            ",\n  \"hotswapGroups\": [ { \"name\": \"Styles\", \"members\": [\"Ikea\", \"Hada\"] } ]" +
            ",\n  \"merges\": [ { \"name\": \"Mix\", \"adapters\": [\"Ikea\", \"Kron\"], \"weights\": [1, 1], \"combinationType\": \"cat\" } ]");
        var outcome = Run(m, Lora("ikea.safetensors"), Lora("hada.safetensors").Variants("unet", "loha"),
            Lora("kron.safetensors").Variants("unet", "lokr", "lora"));
        var ds = Only(outcome, "LSDK018", 2);
        Assert.All(ds, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        Assert.Equal("Hotswap group 'Styles': adapter 'Hada' uses the variant 'loha', but hot swapping accepts plain LoRA adapters only", ds[0].GetMessage());
        At(ds[0], m, 9, "\"Hada\"");
        Assert.Equal("Merge 'Mix': adapter 'Kron' uses the variant 'lokr', but add_weighted_adapter accepts plain LoRA adapters only", ds[1].GetMessage());
        At(ds[1], m, 10, "\"Kron\"");
        Assert.DoesNotContain(outcome.Sources, s => s.HintName == "Demo.Merges.Mix.g.cs");
        var kron = outcome.Sources.Single(s => s.HintName == "Demo.Adapters.Kron.g.cs").SourceText.ToString();
        Assert.Contains("public override string Variant => \"lokr+lora\";", kron);
        Assert.Contains("Adapter (variants <c>lokr</c>, <c>lora</c>) <c>Kron</c>", kron);
        var hada = outcome.Sources.Single(s => s.HintName == "Demo.Adapters.Hada.g.cs").SourceText.ToString();
        Assert.Contains("public override string Variant => \"loha\";", hada);
        Assert.Contains("/// LoHa (LyCORIS) adapter <c>Hada</c>", hada);
    }

    [Fact]
    public void Lsdk018_NotReportedForPlainLoraGroupsAndMergesNorForLycorisAdaptersOutsideThem()
    {
        string m = Manifest(Entry("Ikea", "ikea.safetensors") + ",\n" + Entry("Feng", "feng.safetensors") + ",\n" + Entry("Hada", "hada.safetensors"),
            ",\n  \"hotswapGroups\": [ { \"name\": \"Styles\", \"members\": [\"Ikea\", \"Feng\"] } ]" +
            ",\n  \"merges\": [ { \"name\": \"Mix\", \"adapters\": [\"Ikea\", \"Feng\"], \"weights\": [1, 1], \"combinationType\": \"cat\" } ]");
        var outcome = Run(m, Lora("ikea.safetensors"), Lora("feng.safetensors"), Lora("hada.safetensors").Variants("unet", "loha"));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Empty(outcome.CompilationErrors);
        Assert.Contains(outcome.Sources, s => s.HintName == "Demo.Merges.Mix.g.cs");
    }

    // ---------------- LSDK021 ----------------

    [Fact]
    public void Lsdk021_HotswapMemberWhoseUseRsLoraDiffersFromTheFirstMembers()
    {
        string m = Manifest(Entry("Ikea", "ikea.safetensors") + ",\n" + Entry("Stable", "stable.safetensors"),
            ",\n  \"hotswapGroups\": [ { \"name\": \"Styles\", \"members\": [\"Ikea\", \"Stable\"] } ]");
        var outcome = Run(m, Lora("ikea.safetensors", blocks: 2), Lora("stable.safetensors", blocks: 1).RsLora());
        var d = Only(outcome, "LSDK021").Single();
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("Hotswap group 'Styles': member 'Stable' has use_rslora = True, but the group's first member 'Ikea' has use_rslora = False; " +
                     "hot swapping needs equal values", d.GetMessage());
        At(d, m, 8, "\"Stable\"");
    }

    [Fact]
    public void Lsdk021_NotReportedWhenEveryMemberAgreesNorOutsideGroups()
    {
        string m = Manifest(Entry("Ikea", "ikea.safetensors") + ",\n" + Entry("Stable", "stable.safetensors") + ",\n" + Entry("Plain", "plain.safetensors"),
            ",\n  \"hotswapGroups\": [ { \"name\": \"Styles\", \"members\": [\"Ikea\", \"Stable\"] } ]");
        var outcome = Run(m, Lora("ikea.safetensors", blocks: 2).RsLora(), Lora("stable.safetensors", blocks: 1).RsLora(), Lora("plain.safetensors"));
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Empty(outcome.CompilationErrors);
    }

    // ---------------- LSDK019 ----------------

    [Fact]
    public void Lsdk019_PeftFolderTheRuntimeRefuses()
    {
        string m = Manifest(Entry("A", "peft", ", \"subfolder\": \"ikea\""));
        var outcome = Run(m, Lora("peft").Subfolder("ikea").Refused("lora_bias = true: adds a trained bias to lora_B; not supported"));
        var d = Only(outcome, "LSDK019").Single();
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("Adapter 'A': the PEFT adapter folder 'peft/ikea' would be refused at load: lora_bias = true: adds a trained bias to lora_B; not supported",
            d.GetMessage());
        At(d, m, 5, "\"peft\"");
        Assert.DoesNotContain(outcome.Sources, s => s.HintName == "Demo.Adapters.A.g.cs");
    }

    [Fact]
    public void Lsdk019_NotReportedForAPeftFolderThatLoads()
    {
        string m = Manifest(Entry("A", "peft", ", \"subfolder\": \"ikea\""));
        var outcome = Run(m, Lora("peft").Subfolder("ikea").Peft());
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
        Assert.Empty(outcome.CompilationErrors);
        // The entry finds the sidecar of its subfolder, not one of another adapter of the same folder.
        var other = Run(m, Lora("peft").Subfolder("feng").Peft());
        Assert.StartsWith("Adapter 'A': file 'peft' has no header sidecar", Only(other, "LSDK002").Single().GetMessage());
    }

    // ---------------- LSDK020 ----------------

    [Fact]
    public void Lsdk020_PeftFolderLoadWarnings()
    {
        string m = Manifest(Entry("A", "peft/ikea"));
        var outcome = Run(m, Lora("peft/ikea").Peft(
            "fan_in_fan_out = true: changes nothing here",
            "unet: 2 module(s) in the weights are not selected by adapter_config.json (target_modules [\"to_q\"]); PEFT ignores their keys, so they are not loaded: x, y"));
        var ds = Only(outcome, "LSDK020", 2);
        Assert.All(ds, d =>
        {
            Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
            At(d, m, 5, "\"peft/ikea\"");
        });
        Assert.Equal("Adapter 'A': the PEFT adapter folder 'peft/ikea': fan_in_fan_out = true: changes nothing here", ds[0].GetMessage());
        Assert.StartsWith("Adapter 'A': the PEFT adapter folder 'peft/ikea': unet: 2 module(s) in the weights are not selected", ds[1].GetMessage());
        Assert.Contains(outcome.Sources, s => s.HintName == "Demo.Adapters.A.g.cs");
    }

    [Fact]
    public void Lsdk020_NotReportedForAPeftFolderWithoutWarnings()
    {
        string m = Manifest(Entry("A", "peft/ikea"));
        var outcome = Run(m, Lora("peft/ikea").Peft());
        None(outcome, "LSDK020");
        Assert.True(outcome.GeneratorDiagnostics.IsEmpty, outcome.Describe());
    }

    // ---------------- subfolder ----------------

    [Fact]
    public void Lsdk001_SubfolderOutsideTheFolder()
    {
        string m = Manifest(Entry("A", "peft", ", \"subfolder\": \"../ikea\"") + ",\n" + Entry("B", "peft", ", \"subfolder\": \"\""));
        var ds = Only(Run(m, Lora("peft").Subfolder("../ikea").Missing("has the subfolder '../ikea', which is not a relative folder inside it", atSubfolder: true)), "LSDK001", 2);
        Assert.Equal("adapters[0].subfolder must name a folder inside \"file\" (a non-empty relative path without '..'), not \"../ikea\"", ds[0].GetMessage());
        At(ds[0], m, 5, "\"../ikea\"");
        At(ds[1], m, 6, "\"\"");
    }

    [Fact]
    public void Lsdk002_MissingSubfolderIsLocatedAtTheSubfolder()
    {
        string m = Manifest(Entry("A", "peft", ", \"subfolder\": \"ikea\""));
        var d = Only(Run(m, Lora("peft").Subfolder("ikea").Missing("has no subfolder 'ikea' (its PEFT adapter subfolders: feng)", atSubfolder: true)), "LSDK002").Single();
        Assert.Equal("Adapter 'A': file 'peft' has no subfolder 'ikea' (its PEFT adapter subfolders: feng)", d.GetMessage());
        At(d, m, 5, "\"ikea\"");
    }

    // ---------------- severities are overridable ----------------

    [Fact]
    public void SeveritiesFollowTheCompilationsDiagnosticOptions()
    {
        string m = Manifest(Entry("A", "a.safetensors"));
        var sidecar = GeneratorHarness.Sidecar("a.safetensors").Unet(Modules.Attention(1), 4, 4);
        var driver = GeneratorHarness.CreateDriver(GeneratorHarness.Inputs(m, new[] { sidecar }));
        var compilation = GeneratorHarness.Compilation().WithOptions(GeneratorHarness.Compilation().Options
            .WithSpecificDiagnosticOptions(new[] { new System.Collections.Generic.KeyValuePair<string, ReportDiagnostic>("LSDK012", ReportDiagnostic.Error) }));
        driver.RunGeneratorsAndUpdateCompilation(compilation, out _, out var diagnostics);
        var d = Assert.Single(diagnostics);
        Assert.Equal(("LSDK012", DiagnosticSeverity.Error), (d.Id, d.Severity));

        compilation = compilation.WithOptions(compilation.Options.WithSpecificDiagnosticOptions(
            new[] { new System.Collections.Generic.KeyValuePair<string, ReportDiagnostic>("LSDK012", ReportDiagnostic.Suppress) }));
        GeneratorHarness.CreateDriver(GeneratorHarness.Inputs(m, new[] { sidecar })).RunGeneratorsAndUpdateCompilation(compilation, out _, out diagnostics);
        Assert.Empty(diagnostics);
    }
}
