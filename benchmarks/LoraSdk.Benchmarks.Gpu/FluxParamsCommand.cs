using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using LoraSdk.Diffusion.Configuration;
using LoraSdk.Diffusion.Models.Clip;
using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Diffusion.Models.Flux;
using LoraSdk.Diffusion.Models.T5;
using LoraSdk.Diffusion.Models.Vae;
using LoraSdk.IO;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// <c>flux-params [--model &lt;FluxPipeline folder&gt;] [--device meta]</c>: the parameter count and weight memory of each
/// FluxPipeline component — transformer, text_encoder_2 (T5 encoder), text_encoder (CLIP text), vae — counted by
/// building LoraSdk's own host modules from the components' <c>config.json</c> on PyTorch's <c>meta</c> device (shapes
/// only, no memory) and summing <c>numel</c> over <c>parameters()</c>. Without <c>--model</c> the configs are
/// FLUX.1-dev's (black-forest-labs/FLUX.1-dev, embedded below). With <c>--model</c> the folder's configs are read and
/// each count is checked against the element count of the component's safetensors weights (every shard), which is how
/// the routine was validated on tests/fixtures-flux/tiny-flux (weights written by diffusers/transformers).
/// </summary>
internal static class FluxParamsCommand
{
    public const string Name = "flux-params";

    // FLUX.1-dev's component configs (the keys that shape the modules; everything else takes the libraries' defaults).
    private const string Transformer = """
        {"_class_name": "FluxTransformer2DModel", "attention_head_dim": 128, "guidance_embeds": true, "in_channels": 64,
         "joint_attention_dim": 4096, "num_attention_heads": 24, "num_layers": 19, "num_single_layers": 38, "patch_size": 1,
         "pooled_projection_dim": 768, "axes_dims_rope": [16, 56, 56]}
        """;

    private const string T5Xxl = """
        {"architectures": ["T5EncoderModel"], "d_ff": 10240, "d_kv": 64, "d_model": 4096, "feed_forward_proj": "gated-gelu",
         "layer_norm_epsilon": 1e-06, "model_type": "t5", "num_heads": 64, "num_layers": 24, "relative_attention_max_distance": 128,
         "relative_attention_num_buckets": 32, "tie_word_embeddings": false, "vocab_size": 32128}
        """;

    private const string ClipL = """
        {"architectures": ["CLIPTextModel"], "hidden_act": "quick_gelu", "hidden_size": 768, "intermediate_size": 3072,
         "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model", "num_attention_heads": 12,
         "num_hidden_layers": 12, "projection_dim": 768, "vocab_size": 49408, "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1}
        """;

    private const string Vae = """
        {"_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
         "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
         "force_upcast": true, "in_channels": 3, "latent_channels": 16, "layers_per_block": 2, "mid_block_add_attention": true,
         "norm_num_groups": 32, "out_channels": 3, "sample_size": 1024, "scaling_factor": 0.3611, "shift_factor": 0.1159,
         "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
         "use_post_quant_conv": false, "use_quant_conv": false}
        """;

    public static int Run(string[] args)
    {
        string? model = null;
        string deviceName = "meta";
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--model": model = Next(); break;
                case "--device": deviceName = Next(); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        var placement = new ModelPlacement(ScalarType.BFloat16, new Device(deviceName));
        ConfigFile Config(string component, string embedded) => model is null
            ? ConfigFile.Parse(embedded, $"FLUX.1-dev {component}/config.json (embedded)")
            : ConfigFile.Load(Path.Combine(model, component, "config.json"));

        var components = new (string Name, Func<long> Count)[]
        {
            ("transformer", () => Count(new FluxTransformer2DModel(FluxTransformer2DConfig.FromConfig(Config("transformer", Transformer)), placement))),
            ("text_encoder_2", () => Count(new T5EncoderModel(T5Config.FromConfig(Config("text_encoder_2", T5Xxl)), placement))),
            ("text_encoder", () => Count(new ClipTextModel(ClipTextConfig.FromConfig(Config("text_encoder", ClipL)), placement))),
            ("vae", () => Count(new AutoencoderKL(AutoencoderKLConfig.FromConfig(Config("vae", Vae)), placement))),
        };
        Console.WriteLine($"FluxPipeline components of {(model ?? "FLUX.1-dev (embedded configs)")}, LoraSdk host modules built on '{deviceName}':");
        Console.WriteLine("| component | parameters | bf16/fp16 GiB | fp32 GiB | safetensors elements |");
        Console.WriteLine("| --- | ---: | ---: | ---: | --- |");
        long total = 0;
        int mismatches = 0;
        foreach (var (name, count) in components)
        {
            long n = count();
            total += n;
            string check = "—";
            if (model is not null)
            {
                long stored = StoredElements(Path.Combine(model, name));
                check = stored == n ? $"{stored:N0} (equal)" : $"{stored:N0} (DIFFERS by {stored - n:N0})";
                if (stored != n) mismatches++;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {n:N0} | {Gib(n * 2L):F2} | {Gib(n * 4L):F2} | {check} |"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| all | {total:N0} | {Gib(total * 2L):F2} | {Gib(total * 4L):F2} | |"));
        return mismatches == 0 ? 0 : 1;
    }

    private static long Count(nn.Module module)
    {
        using (module) return module.parameters().Sum(p => p.numel());
    }

    // Element count of every tensor in every *.safetensors file of a component folder (sharded or not).
    private static long StoredElements(string folder)
    {
        long sum = 0;
        foreach (string file in Directory.EnumerateFiles(folder, "*.safetensors"))
        {
            using var f = SafetensorsFile.Open(file);
            sum += f.Header.Tensors.Sum(t => t.ElementCount);
        }
        return sum;
    }

    private static double Gib(long bytes) => bytes / (1024.0 * 1024.0 * 1024.0);
}
