using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using LoraSdk.Diffusion.Imaging;
using LoraSdk.Diffusion.Pipelines;
using LoraSdk.Diffusion.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Pipelines;

/// <summary>Pipeline call semantics beyond the goldens: LoRA scale seam, callbacks, progress, cancellation, validation, PNG.</summary>
public sealed class PipelineBehaviourTests : IClassFixture<PromptPipelineFixture>
{
    private readonly StableDiffusionXLPipeline _pipe;

    public PipelineBehaviourTests(PromptPipelineFixture fixture) => _pipe = fixture.Pipeline;

    private static StableDiffusionXLCallOptions Basic(int steps = 2, StepEndCallback? callback = null, double? scale = null,
        IProgress<PipelineProgress>? progress = null, CancellationToken token = default, PipelineOutputType type = PipelineOutputType.Image) => new()
    {
        Prompt = "bears, pizza bites", NegativePrompt = "", NumInferenceSteps = steps, GuidanceScale = 5.0, Height = 64, Width = 64,
        Seed = 1000, CallbackOnStepEnd = callback, CrossAttentionScale = scale, Progress = progress, CancellationToken = token,
        CallbackOnStepEndTensorInputs = callback is null ? new[] { "latents" } : StableDiffusionXLPipeline.CallbackTensorInputs,
        OutputType = type,
    };

    [Fact]
    public void RuntimeScaleIsAppliedToBothTextEncodersWhileEncodingAndToTheUNetInEveryStep()
    {
        var hook = new RecordingScaleHook();
        _pipe.LoraScaleHook = hook;
        try
        {
            using var output = _pipe.Generate(Basic(steps: 2, scale: 0.5));
        }
        finally
        {
            _pipe.LoraScaleHook = null;
        }
        Assert.Equal(new[]
        {
            "+text_encoder 0.5", "+text_encoder_2 0.5", "-text_encoder_2 0.5", "-text_encoder 0.5",
            "+unet 0.5", "-unet 0.5", "+unet 0.5", "-unet 0.5",
        }, hook.Events);
        Assert.Null(_pipe.Unet.LoraScaleHook);
    }

    [Fact]
    public void NoRuntimeScaleMeansNoHookCalls()
    {
        var hook = new RecordingScaleHook();
        _pipe.LoraScaleHook = hook;
        try
        {
            using var output = _pipe.Generate(Basic(steps: 1));
            using var e = _pipe.EncodePrompt("a cat");
        }
        finally
        {
            _pipe.LoraScaleHook = null;
        }
        Assert.Empty(hook.Events);
    }

    [Fact]
    public void CallbackGetsPipelineStepTimestepAndTensorsAndCanReplaceLatents()
    {
        var seen = new List<(int, float, string[])>();
        using var zeroed = _pipe.Generate(Basic(steps: 2, callback: (p, step, t, tensors) =>
        {
            Assert.Same(_pipe, p);
            seen.Add((step, t, tensors.Keys.OrderBy(k => k).ToArray()));
            Assert.Equal(new long[] { 2, 77, 64 }, tensors["prompt_embeds"].shape);
            Assert.Equal(new long[] { 2, 6 }, tensors["add_time_ids"].shape);
            if (step == 1) return new Dictionary<string, Tensor> { ["latents"] = zeros_like(tensors["latents"]) };
            return tensors;
        }));
        Assert.Equal(2, seen.Count);
        Assert.Equal((0, 501f), (seen[0].Item1, seen[0].Item2));
        Assert.Equal((1, 1f), (seen[1].Item1, seen[1].Item2));
        Assert.Equal(new[] { "add_text_embeds", "add_time_ids", "latents", "prompt_embeds" }, seen[0].Item3);
        using var zeroLatents = zeros(1, 4, 32, 32);
        using var decodedZeros = _pipe.DecodeLatents(zeroLatents);
        TensorAssert.Equal(zeroed.Images, decodedZeros, "image decoded from the callback's zero latents");
    }

    [Fact]
    public void ProgressIsReportedAfterEveryStep()
    {
        var progress = new SynchronousProgress<PipelineProgress>();
        using var output = _pipe.Generate(Basic(steps: 3, progress: progress));
        Assert.Equal(new[] { new PipelineProgress(1, 3, 667f), new PipelineProgress(2, 3, 334f), new PipelineProgress(3, 3, 1f) }, progress.Reports);
    }

    [Fact]
    public void CancellationStopsBetweenSteps()
    {
        using var cts = new CancellationTokenSource();
        int calls = 0;
        Assert.Throws<OperationCanceledException>(() => _pipe.Generate(Basic(steps: 4, token: cts.Token, callback: (p, step, t, kw) =>
        {
            calls++;
            cts.Cancel();
            return kw;
        })));
        Assert.Equal(1, calls);
    }

    [Fact]
    public void InvalidArgumentsAreRejectedWithDiffusersMessages()
    {
        using var pe = zeros(1, 77, 64);
        var e = Assert.Throws<ArgumentException>(() => _pipe.Generate(new StableDiffusionXLCallOptions { Prompt = "x", PromptEmbeds = pe }));
        Assert.Contains("Cannot forward both `prompt` and `prompt_embeds`", e.Message);
        e = Assert.Throws<ArgumentException>(() => _pipe.Generate(new StableDiffusionXLCallOptions { Prompt = "x", Height = 60 }));
        Assert.Contains("divisible by 8", e.Message);
        e = Assert.Throws<ArgumentException>(() => _pipe.Generate(new StableDiffusionXLCallOptions
        {
            Prompt = "x", CallbackOnStepEndTensorInputs = new[] { "latents", "noise_pred" },
        }));
        Assert.Contains("noise_pred", e.Message);
        Assert.Throws<ArgumentException>(() => _pipe.Generate(new StableDiffusionXLCallOptions()));
    }

    [Fact]
    public void LatentOutputDecodesToTheImageOutput()
    {
        using var image = _pipe.Generate(Basic(steps: 2));
        using var latent = _pipe.Generate(Basic(steps: 2, type: PipelineOutputType.Latent));
        Assert.Equal(new long[] { 1, 4, 32, 32 }, latent.Tensor.shape);
        using var decoded = _pipe.DecodeLatents(latent.Tensor);
        TensorAssert.Equal(decoded, image.Images, "decode(latent output) vs image output");
        Assert.Throws<InvalidOperationException>(() => latent.Images);
    }

    [Fact]
    public void PngHoldsTheRoundedImage()
    {
        using var temp = new TempFolder();
        using var output = _pipe.Generate(Basic(steps: 1));
        string path = Path.Combine(temp.Path, "out", "image.png");
        output.SavePng(path);
        using var png = Image.Load<Rgb24>(path);
        Assert.Equal((64, 64), (png.Width, png.Height));
        using var expected = (output.Images[0] * 255f).round().to_type(ScalarType.Byte);
        var pixel = png[5, 7];
        Assert.Equal(expected[7, 5, 0].item<byte>(), pixel.R);
        Assert.Equal(expected[7, 5, 1].item<byte>(), pixel.G);
        Assert.Equal(expected[7, 5, 2].item<byte>(), pixel.B);
        using var back = ImageConversion.FromImage(png);
        Assert.Equal(new long[] { 1, 3, 64, 64 }, back.shape);
    }

    [Fact]
    public void NumImagesPerPromptRepeatsEmbeddingsAndDrawsOneNoiseBatch()
    {
        using var output = _pipe.Generate(new StableDiffusionXLCallOptions
        {
            Prompt = "a cat", NumInferenceSteps = 1, Height = 64, Width = 64, Seed = 7, NumImagesPerPrompt = 2,
        });
        Assert.Equal(2, output.Count);
        Assert.True((output.Images[0] - output.Images[1]).abs().max().item<float>() > 0);
    }
}
