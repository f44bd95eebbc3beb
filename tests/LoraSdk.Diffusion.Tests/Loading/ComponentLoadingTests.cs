using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Loading;

/// <summary>Component loading: stored dtypes, both CLIP key layouts, shards, variants, and strict typed errors.</summary>
public sealed class ComponentLoadingTests
{
    private static string TinyTe1 => Path.Combine(RepoPaths.TinySdxl, "text_encoder");

    [Fact]
    public void Float16TextEncoderLoadsInFloat32ByDefaultAsTheUpcastWeights()
    {
        string folder = Path.Combine(RepoPaths.TinySdxlPrompt, "text_encoder");
        using var model = ComponentLoader.LoadClipTextModel(folder);
        using var file = SafetensorsFile.Open(Path.Combine(folder, "model.safetensors"));
        Assert.Equal(LoraSdk.Core.SafetensorsDType.F16, file.Info("embeddings.token_embedding.weight").DType);
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            using var stored = file.Load(name);
            using var upcast = stored.to_type(ScalarType.Float32);
            TensorAssert.Equal(p, upcast, name);
        }
    }

    [Fact]
    public void Float16TextEncoderLoadsInBFloat16WhenAsked()
    {
        string folder = Path.Combine(RepoPaths.TinySdxlPrompt, "text_encoder_2");
        using var model = ComponentLoader.LoadClipTextModelWithProjection(folder, new ModelLoadOptions { DType = ScalarType.BFloat16 });
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        using var ids = TokenizerCache.Tokenizer2.TokenizeToTensor("a photo of a cat");
        using var noGrad = no_grad();
        using var output = model.Forward(ids);
        Assert.Equal(ScalarType.BFloat16, output.TextEmbeds!.dtype);
        Assert.False(output.TextEmbeds.isnan().any().item<bool>());
    }

    [Fact]
    public void ClassicTextModelLayoutLoadsAndGivesIdenticalOutputs()
    {
        using var temp = new TempFolder();
        string classic = temp.CopyFolder(TinyTe1, "text_encoder");
        RewriteKeys(Path.Combine(classic, "model.safetensors"), k => "text_model." + k);
        using var a = ComponentLoader.LoadClipTextModel(TinyTe1);
        using var b = ComponentLoader.LoadClipTextModel(classic);
        using var ids = GoldenSet.Reference.Tensor("inputs/input_ids");
        using var noGrad = no_grad();
        using var oa = a.Forward(ids);
        using var ob = b.Forward(ids);
        TensorAssert.Equal(ob.LastHiddenState, oa.LastHiddenState, "classic layout last_hidden_state");
        TensorAssert.Equal(ob.PooledOutput, oa.PooledOutput, "classic layout pooler_output");
    }

    [Fact]
    public void ShardedWeightsWithAnIndexLoadLikeTheSingleFile()
    {
        using var temp = new TempFolder();
        string folder = temp.CopyFolder(Path.Combine(RepoPaths.TinySdxl, "unet"), "unet");
        string single = Path.Combine(folder, "diffusion_pytorch_model.safetensors");
        Dictionary<string, Tensor> all;
        using (var f = SafetensorsFile.Open(single)) all = f.LoadAll();
        var keys = all.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var shards = new[] { keys.Take(keys.Count / 2).ToList(), keys.Skip(keys.Count / 2).ToList() };
        var map = new LoraSdk.Core.JsonWriter(indented: true).StartObject().Name("metadata").StartObject().EndObject().Name("weight_map").StartObject();
        for (int s = 0; s < 2; s++)
        {
            string name = $"diffusion_pytorch_model-0000{s + 1}-of-00002.safetensors";
            SafetensorsWriter.Save(Path.Combine(folder, name), shards[s].Select(k => new KeyValuePair<string, Tensor>(k, all[k])));
            foreach (var k in shards[s]) map.Name(k).Value(name);
        }
        File.WriteAllText(single + ".index.json", map.EndObject().EndObject().ToString());
        File.Delete(single);
        foreach (var t in all.Values) t.Dispose();

        using var sharded = ComponentLoader.LoadUNet(folder);
        using var reference = ComponentLoader.LoadUNet(Path.Combine(RepoPaths.TinySdxl, "unet"));
        var refParams = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in sharded.named_parameters()) TensorAssert.Equal(p, refParams[name], name);
    }

    [Fact]
    public void VariantFileIsPreferred()
    {
        using var temp = new TempFolder();
        string folder = temp.CopyFolder(TinyTe1, "text_encoder");
        RewriteKeys(Path.Combine(folder, "model.safetensors"), k => k, Path.Combine(folder, "model.fp16.safetensors"), ScalarType.Float16);
        using var model = ComponentLoader.LoadClipTextModel(folder, new ModelLoadOptions { Variant = "fp16" });
        using var file = SafetensorsFile.Open(Path.Combine(folder, "model.fp16.safetensors"));
        using var stored = file.Load("encoder.layers.0.mlp.fc1.weight", ScalarType.Float32);
        var fc1 = model.named_parameters().Single(p => p.name == "encoder.layers.0.mlp.fc1.weight").parameter;
        TensorAssert.Equal(fc1, stored, "variant weight");
    }

    [Fact]
    public void MissingWeightIsATypedErrorNamingTheKey()
    {
        using var temp = new TempFolder();
        string folder = temp.CopyFolder(TinyTe1, "text_encoder");
        RewriteKeys(Path.Combine(folder, "model.safetensors"), k => k == "final_layer_norm.bias" ? null : k);
        var e = Assert.Throws<ModelLoadException>(() => ComponentLoader.LoadClipTextModel(folder));
        Assert.Equal(ModelLoadErrorKind.MissingWeight, e.Kind);
        Assert.Equal("final_layer_norm.bias", e.Key);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void UnexpectedWeightIsATypedErrorNamingFileAndKey()
    {
        using var temp = new TempFolder();
        string folder = temp.CopyFolder(TinyTe1, "text_encoder");
        RewriteKeys(Path.Combine(folder, "model.safetensors"), k => k == "final_layer_norm.bias" ? "final_layer_norm.extra" : k, keepOriginal: true);
        var e = Assert.Throws<ModelLoadException>(() => ComponentLoader.LoadClipTextModel(folder));
        Assert.Equal(ModelLoadErrorKind.UnexpectedWeight, e.Kind);
        Assert.Equal("final_layer_norm.extra", e.Key);
        Assert.EndsWith("model.safetensors", e.FilePath);
    }

    [Fact]
    public void BothKeyLayoutsAtOnceIsADuplicateWeightError()
    {
        using var temp = new TempFolder();
        string folder = temp.CopyFolder(TinyTe1, "text_encoder");
        RewriteKeys(Path.Combine(folder, "model.safetensors"), k => k == "final_layer_norm.bias" ? "text_model.final_layer_norm.bias" : k, keepOriginal: true);
        var e = Assert.Throws<ModelLoadException>(() => ComponentLoader.LoadClipTextModel(folder));
        Assert.Equal(ModelLoadErrorKind.DuplicateWeight, e.Kind);
        Assert.Contains("final_layer_norm.bias", e.Message);
    }

    [Fact]
    public void ShapeMismatchIsATypedErrorWithBothShapes()
    {
        using var temp = new TempFolder();
        string folder = temp.CopyFolder(TinyTe1, "text_encoder");
        var config = File.ReadAllText(Path.Combine(folder, "config.json")).Replace("\"intermediate_size\": 37", "\"intermediate_size\": 38");
        File.WriteAllText(Path.Combine(folder, "config.json"), config);
        var e = Assert.Throws<ModelLoadException>(() => ComponentLoader.LoadClipTextModel(folder));
        Assert.Equal(ModelLoadErrorKind.ShapeMismatch, e.Kind);
        Assert.Contains("37", e.Message);
        Assert.Contains("38", e.Message);
        Assert.StartsWith("encoder.layers.0.mlp.fc", e.Key);
    }

    [Fact]
    public void PickleWeightsAreRefused()
    {
        using var temp = new TempFolder();
        string folder = Path.Combine(temp.Path, "unet");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(RepoPaths.TinySdxl, "unet", "config.json"), Path.Combine(folder, "config.json"));
        File.WriteAllBytes(Path.Combine(folder, "diffusion_pytorch_model.bin"), new byte[] { 0x80, 0x02 });
        var e = Assert.Throws<ModelLoadException>(() => ComponentLoader.LoadUNet(folder));
        Assert.Equal(ModelLoadErrorKind.UnsupportedFileFormat, e.Kind);
        Assert.EndsWith(".bin", e.FilePath);
    }

    [Fact]
    public void UnsupportedUNetOptionIsReportedWithTheConfigEntry()
    {
        using var temp = new TempFolder();
        string folder = temp.CopyFolder(Path.Combine(RepoPaths.TinySdxl, "unet"), "unet");
        string path = Path.Combine(folder, "config.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"class_embed_type\": null", "\"class_embed_type\": \"timestep\""));
        var e = Assert.Throws<ModelLoadException>(() => ComponentLoader.LoadUNet(folder));
        Assert.Equal(ModelLoadErrorKind.UnsupportedConfiguration, e.Kind);
        Assert.Equal("class_embed_type", e.Key);
    }

    // Rewrites a safetensors file with renamed (or dropped, for null) keys; keepOriginal also keeps the old key.
    private static void RewriteKeys(string path, Func<string, string?> rename, string? outputPath = null, ScalarType? dtype = null, bool keepOriginal = false)
    {
        Dictionary<string, Tensor> all;
        using (var f = SafetensorsFile.Open(path)) all = f.LoadAll(dtype);
        var output = new List<KeyValuePair<string, Tensor>>();
        foreach (var (k, t) in all)
        {
            if (keepOriginal) output.Add(new(k, t));
            string? n = rename(k);
            if (n != null && !(keepOriginal && n == k)) output.Add(new(n, t));
        }
        string target = outputPath ?? path;
        string tmp = target + ".tmp";
        SafetensorsWriter.Save(tmp, output);
        File.Move(tmp, target, true);
        foreach (var t in all.Values) t.Dispose();
    }
}
