using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Diffusion.Models.Unet;
using LoraSdk.Diffusion.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Models;

/// <summary>
/// The UNet forward must be capturable in a CUDA graph: no host synchronisation and no CPU tensor inside it when the
/// model is on a device. There is no GPU here, so this is checked in two parts:
/// <list type="number">
/// <item>the conditioning stage (timestep features, time embedding, added text/time embedding) runs on the META device,
/// where any read of tensor data (<c>item()</c>, <c>cpu()</c>, <c>data&lt;T&gt;()</c>) throws and any non-scalar CPU tensor
/// mixed in throws a device mismatch — libtorch has no meta kernels for convolution, group/layer norm or attention, so
/// the rest of the forward cannot run there;</item>
/// <item>the sources of everything the forward calls (the UNet blocks, the common layers, and the LoRA layers' forward
/// files) are scanned for the calls that synchronise with the host or create CPU tensors.</item>
/// </list>
/// The GPU check itself (graph output equals eager output bitwise) is in benchmarks/gpu/device-run.sh.
/// </summary>
public sealed class CapturableUNetTests
{
    private static readonly Device Meta = new("meta");

    [Fact]
    public void The_meta_device_rejects_host_reads_and_cpu_tensors_so_the_conditioning_check_can_fail()
    {
        using var t = empty(new long[] { 2, 8 }, ScalarType.Float32, Meta);
        Assert.ThrowsAny<Exception>(() => t.sum().item<float>());
        Assert.ThrowsAny<Exception>(() => t.cpu());
        Assert.ThrowsAny<Exception>(() => t.data<float>().ToArray());
        using var host = tensor(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 });
        Assert.ThrowsAny<Exception>(() => t + host);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void The_conditioning_embedding_runs_on_a_device_without_host_reads_or_cpu_tensors(int timestepDims)
    {
        var config = UNet2DConditionConfig.Load(Path.Combine(RepoPaths.TinySdxl, "unet", "config.json"));
        using var unet = new UNet2DConditionModel(config, new ModelPlacement(ScalarType.Float32, Meta));
        using var noGrad = no_grad();
        long pooled = config.ProjectionClassEmbeddingsInputDim!.Value - 6L * config.AdditionTimeEmbedDim!.Value;
        using var sample = empty(new long[] { 2, config.InChannels, 16, 16 }, ScalarType.Float32, Meta);
        using var timestep = empty(timestepDims == 0 ? Array.Empty<long>() : new long[] { 2 }, ScalarType.Float32, Meta);
        using var textEmbeds = empty(new long[] { 2, pooled }, ScalarType.Float32, Meta);
        using var timeIds = empty(new long[] { 2, 6 }, ScalarType.Float32, Meta);

        using var emb = unet.ConditioningEmbedding(sample, timestep, textEmbeds, timeIds);
        Assert.Equal(DeviceType.META, emb.device_type);
        Assert.Equal(new[] { 2L, config.TimeEmbeddingDim }, emb.shape);
        using var again = unet.ConditioningEmbedding(sample, timestep, textEmbeds, timeIds);  // the cached frequencies
        Assert.Equal(DeviceType.META, again.device_type);
    }

    [Theory]
    [InlineData(320, true, 0.0)]
    [InlineData(256, true, 0.0)]
    [InlineData(7, false, 1.0)]
    public void Cached_sinusoidal_frequencies_give_the_per_call_formulas_bits(int channels, bool flip, double shift)
    {
        using var timesteps = tensor(new float[] { 999f, 500.5f, 0f, 1f });
        using var embedding = new SinusoidalTimesteps(channels, flip, shift);
        using var first = embedding.Embed(timesteps);
        using var second = embedding.Embed(timesteps);
        using var reference = PerCallFormula(timesteps, channels, flip, shift);
        Assert.Equal(reference.shape, first.shape);
        Assert.True(Identical(reference, first), "first call differs from diffusers' per-call formula");
        Assert.True(Identical(reference, second), "cached call differs from diffusers' per-call formula");
    }

    [Fact]
    public void The_forward_path_holds_no_host_synchronisation_or_cpu_tensor_creation()
    {
        var violations = new List<string>();
        foreach (string file in ForwardPathSources())
        {
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                string? hit = HostCall(lines[i]);
                if (hit is not null) violations.Add($"{Path.GetRelativePath(RepoPaths.Root, file)}:{i + 1}: {hit} in `{lines[i].Trim()}`");
            }
        }
        Assert.True(violations.Count == 0,
            "The UNet forward must not synchronise with the host or create CPU tensors (it is captured in CUDA graphs):\n" + string.Join("\n", violations));
    }

    [Theory]
    [InlineData("double v = x.max().item<double>();")]
    [InlineData("float s = scale.ToSingle();")]
    [InlineData("var h = hidden.cpu();")]
    [InlineData("var d = t.data<float>();")]
    [InlineData("var c = tensor(new float[] { 1f, 2f });")]
    [InlineData("var c = torch.tensor(2.0);")]
    [InlineData("var z = zeros(3, device: CPU);")]
    [InlineData("cuda.synchronize();")]
    public void The_source_check_recognises_host_calls(string line) => Assert.NotNull(HostCall(line));

    [Theory]
    [InlineData("Tensor exponent = arange(0, half, ScalarType.Float32, device);")]
    [InlineData("// a comment may mention .item<float>() and tensor(")]
    [InlineData("/// <summary>no <c>cpu()</c> here</summary>")]
    [InlineData("return Tensor.ReferenceEquals(a, b);")]
    public void The_source_check_lets_device_code_and_comments_pass(string line) => Assert.Null(HostCall(line));

    private static readonly (string What, Regex Pattern)[] HostCalls =
    {
        ("a host read (item)", new Regex(@"\.item<", RegexOptions.CultureInvariant)),
        ("a host read (To<scalar>)", new Regex(@"\.To(Single|Double|Half|BFloat16|Int16|Int32|Int64|Byte|Boolean)\(", RegexOptions.CultureInvariant)),
        ("a copy to the host (cpu)", new Regex(@"\.cpu\(\)", RegexOptions.CultureInvariant)),
        ("a host read (data)", new Regex(@"\.(data|numpy)<?\w*>?\(", RegexOptions.CultureInvariant)),
        ("a CPU tensor from host values", new Regex(@"(?<![\w.])(torch\.)?(tensor|from_array|as_tensor)\(", RegexOptions.CultureInvariant)),
        ("an explicit CPU device", new Regex(@"\bCPU\b|""cpu""", RegexOptions.CultureInvariant)),
        ("a synchronisation", new Regex(@"\bsynchronize\(", RegexOptions.CultureInvariant)),
    };

    private static string? HostCall(string line)
    {
        string code = line.TrimStart();
        if (code.StartsWith("//", StringComparison.Ordinal)) return null;
        int comment = code.IndexOf("//", StringComparison.Ordinal);
        if (comment >= 0) code = code[..comment];
        foreach (var (what, pattern) in HostCalls)
            if (pattern.IsMatch(code)) return what;
        return null;
    }

    // The UNet, its blocks and common layers, and the forward files of the LoRA layers every Linear/Conv2d is (with the
    // graph-stable plan a pinned layer's forward reads).
    // ModelPlacement (a placement record with a CPU default) and ModuleOrder (module-tree walk) run no forward code.
    private static IEnumerable<string> ForwardPathSources()
    {
        string models = Path.Combine(RepoPaths.Root, "runtime", "LoraSdk.Diffusion", "Models");
        var files = Directory.GetFiles(Path.Combine(models, "Unet"), "*.cs")
            .Concat(Directory.GetFiles(Path.Combine(models, "Common"), "*.cs"))
            .Where(f => Path.GetFileName(f) is not ("ModelPlacement.cs" or "ModuleOrder.cs"))
            .Concat(new[] { "LoraLayer.cs", "LoraLinear.cs", "LoraConv2d.cs", "LayerGraphPlan.cs" }.Select(f => Path.Combine(RepoPaths.Root, "runtime", "LoraSdk", "Layers", f)))
            .ToList();
        Assert.Contains(files, f => f.EndsWith("UNet2DConditionModel.cs", StringComparison.Ordinal));
        Assert.All(files, f => Assert.True(File.Exists(f), f));
        return files;
    }

    private static bool Identical(Tensor a, Tensor b)
    {
        using var eq = a.eq(b);
        using var all = eq.all();
        return all.item<bool>();
    }

    // diffusers' get_timestep_embedding as the embedding computed it before the cache: everything per call.
    private static Tensor PerCallFormula(Tensor timesteps, int channels, bool flip, double shift)
    {
        using var scope = NewDisposeScope();
        int half = channels / 2;
        Tensor exponent = arange(0, half, ScalarType.Float32, timesteps.device) * (-Math.Log(10000.0));
        exponent = exponent / (half - shift);
        Tensor emb = exp(exponent);
        emb = timesteps.unsqueeze(1).to_type(ScalarType.Float32) * emb.unsqueeze(0);
        emb = emb * 1.0;
        emb = cat(new[] { sin(emb), cos(emb) }, -1);
        if (flip) emb = cat(new[] { emb.narrow(1, half, half), emb.narrow(1, 0, half) }, -1);
        if (channels % 2 == 1) emb = nn.functional.pad(emb, new long[] { 0, 1, 0, 0 });
        return emb.MoveToOuterDisposeScope();
    }
}
