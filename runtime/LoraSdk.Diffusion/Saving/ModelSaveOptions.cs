using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Saving;

/// <summary>How a pipeline or model is written by <c>SavePretrained</c> (diffusers' <c>save_pretrained</c> arguments).</summary>
public sealed class ModelSaveOptions
{
    /// <summary>diffusers' <c>ModelMixin.save_pretrained</c> default <c>max_shard_size</c> ("10GB", decimal units).</summary>
    public const long DiffusersDefaultMaxShardSize = 10_000_000_000;

    /// <summary>transformers 5's <c>PreTrainedModel.save_pretrained</c> default <c>max_shard_size</c> ("50GB").</summary>
    public const long TransformersDefaultMaxShardSize = 50_000_000_000;

    /// <summary>The default: weights as they are, no variant, each library's shard size.</summary>
    public static ModelSaveOptions Default { get; } = new();

    /// <summary>
    /// diffusers' <c>variant</c>: inserted before the extension of every weight file
    /// (<c>diffusion_pytorch_model.fp16.safetensors</c>, <c>model.fp16.safetensors</c>, shards
    /// <c>…fp16-00001-of-00002.safetensors</c>, index <c>…safetensors.index.fp16.json</c>); load it back with
    /// <c>ModelLoadOptions.Variant</c>. Null: no variant.
    /// </summary>
    public string? Variant { get; init; }

    /// <summary>
    /// The dtype the weights are written in (float32, float16, bfloat16 or float64; the model is not changed), as after
    /// diffusers' <c>pipe.to(dtype)</c>; null writes every weight in its current dtype.
    /// </summary>
    public ScalarType? DType { get; init; }

    /// <summary>
    /// diffusers' <c>max_shard_size</c> in bytes: weights above it are split into shards with an index file, filled in
    /// state-dict order like huggingface_hub's <c>split_torch_state_dict_into_shards</c> (a tensor larger than the limit
    /// gets a shard of its own). Null: each library's default (<see cref="DiffusersDefaultMaxShardSize"/> for diffusers
    /// models, <see cref="TransformersDefaultMaxShardSize"/> for transformers text encoders).
    /// </summary>
    public long? MaxShardSize { get; init; }
}
