using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Loading;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using LoraSdk.IO;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Flux;

/// <summary>Loading the tiny Flux folder: sharded transformer weights, half-precision dtypes, T5 embedding layouts, wrong pipelines.</summary>
public sealed class FluxLoadingTests
{
    private readonly ITestOutputHelper _output;

    public FluxLoadingTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void ShardedTransformerLoadsAndRunsLikeTheSingleFile()
    {
        using var temp = new TempFolder();
        string folder = temp.CopyFolder(Path.Combine(RepoPaths.TinyFlux, "transformer"), "transformer");
        string single = Path.Combine(folder, "diffusion_pytorch_model.safetensors");
        Dictionary<string, Tensor> all;
        using (var f = SafetensorsFile.Open(single)) all = f.LoadAll();
        var keys = all.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var shards = new[] { keys.Take(keys.Count / 3).ToList(), keys.Skip(keys.Count / 3).ToList() };
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

        using var sharded = ComponentLoader.LoadFluxTransformer(folder);
        using var reference = ComponentLoader.LoadFluxTransformer(Path.Combine(RepoPaths.TinyFlux, "transformer"));
        var refParams = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(refParams.Count, sharded.named_parameters().Count());
        foreach (var (name, p) in sharded.named_parameters()) TensorAssert.Equal(p, refParams[name], name);

        var g = GoldenSet.Flux;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor output = sharded.Forward(g.Tensor("inputs/hidden_states"), g.Tensor("inputs/encoder_hidden_states"), g.Tensor("inputs/pooled_projections"),
            g.Tensor("inputs/timestep"), g.Tensor("inputs/img_ids"), g.Tensor("inputs/txt_ids"), g.Tensor("inputs/guidance"));
        TensorAssert.Close(output, g.Tensor("transformer/base"), "sharded transformer/base");
    }

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void HalfPrecisionPipelineLoadsAndGenerates(ScalarType dtype)
    {
        using var pipe = FluxPipeline.FromPretrained(RepoPaths.TinyFlux, new ModelLoadOptions { DType = dtype });
        Assert.All(pipe.Transformer.parameters(), p => Assert.Equal(dtype, p.dtype));
        Assert.All(pipe.Vae.parameters(), p => Assert.Equal(dtype, p.dtype));
        Assert.All(pipe.TextEncoder!.parameters(), p => Assert.Equal(dtype, p.dtype));
        // transformers keeps T5's wo in float32 under float16 (_keep_in_fp32_modules); everything else is converted.
        foreach (var (name, p) in pipe.TextEncoder2!.named_parameters())
            Assert.Equal(dtype == ScalarType.Float16 && name.EndsWith(".wo.weight", StringComparison.Ordinal) ? ScalarType.Float32 : dtype, p.dtype);

        // The float32 golden noise (a half-precision randn draws a different stream, in diffusers too).
        using var noise = GoldenSet.Flux.Tensor("pipe/base/p0/init_latents");
        var options = new FluxCallOptions { Prompt = "a photo of a red fox sitting in the snow", Height = 64, Width = 64, NumInferenceSteps = 4, MaxSequenceLength = 32, Latents = noise };
        using var image = pipe.Generate(options);
        Assert.Equal(new long[] { 1, 64, 64, 3 }, image.Images.shape);
        Assert.Equal(ScalarType.Float32, image.Images.dtype);
        Assert.False(image.Images.isnan().any().item<bool>());
        using var golden = GoldenSet.Flux.Tensor("pipe/base/p0/image");
        var c = TensorAssert.Compare(image.Images, golden);
        _output.WriteLine($"{dtype} image vs float32 golden: {c}");
        // A smoke bound, not parity: half precision drifts, but a dtype mistake (garbage weights) lands far off.
        Assert.True(c.MaxAbsDiff < 0.1, $"{dtype} image too far from the float32 golden: {c}");
    }

    [Fact]
    public void T5CheckpointWithOnlyTheTiedEmbeddingKeyLoads()
    {
        using var temp = new TempFolder();
        string folder = temp.CopyFolder(Path.Combine(RepoPaths.TinyFlux, "text_encoder_2"), "text_encoder_2");
        string file = Path.Combine(folder, "model.safetensors");
        Dictionary<string, Tensor> all;
        using (var f = SafetensorsFile.Open(file)) all = f.LoadAll();
        var renamed = all.Select(p => new KeyValuePair<string, Tensor>(p.Key == "shared.weight" ? "encoder.embed_tokens.weight" : p.Key, p.Value)).ToList();
        SafetensorsWriter.Save(file, renamed);
        foreach (var t in all.Values) t.Dispose();

        using var tied = ComponentLoader.LoadT5EncoderModel(folder);
        using var reference = ComponentLoader.LoadT5EncoderModel(Path.Combine(RepoPaths.TinyFlux, "text_encoder_2"));
        var refParams = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in tied.named_parameters()) TensorAssert.Equal(p, refParams[name], name);
    }

    [Fact]
    public void AnSdxlFolderIsRefusedByTheFluxLoader()
    {
        var e = Assert.Throws<ModelLoadException>(() => FluxPipeline.FromPretrained(RepoPaths.TinySdxl));
        Assert.Equal(ModelLoadErrorKind.UnsupportedConfiguration, e.Kind);
        Assert.Contains("FluxPipeline", e.Message);
    }

    [Fact]
    public void PngOfTheImageIsWritten()
    {
        using var pipe = FluxPipeline.FromPretrained(RepoPaths.TinyFlux);
        using var image = pipe.Generate(new FluxCallOptions { Prompt = "a fox", Height = 64, Width = 64, NumInferenceSteps = 1, MaxSequenceLength = 32, Seed = 3 });
        using var temp = new TempFolder();
        string path = Path.Combine(temp.Path, "flux.png");
        image.SavePng(path);
        using var png = SixLabors.ImageSharp.Image.Load(path);
        Assert.Equal(64, png.Width);
        Assert.Equal(64, png.Height);
    }
}
