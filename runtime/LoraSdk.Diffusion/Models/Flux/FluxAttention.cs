using LoraSdk.Diffusion.Models.Common;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Flux;

/// <summary>
/// diffusers' <c>FluxAttention</c> with <c>FluxAttnProcessor</c>: children <c>norm_q</c>, <c>norm_k</c> (RMSNorm
/// over a head), <c>to_q</c>, <c>to_k</c>, <c>to_v</c>, <c>to_out.0</c>/<c>to_out.1</c> (not in single-stream
/// blocks: <c>pre_only</c>), and for joint attention <c>norm_added_q</c>, <c>norm_added_k</c>, <c>add_q_proj</c>,
/// <c>add_k_proj</c>, <c>add_v_proj</c>, <c>to_add_out</c>. Text tokens come first in the joint sequence; RoPE is
/// applied to queries and keys before scaled dot-product attention.
/// </summary>
public sealed class FluxAttention : DiffusersModule
{
    private readonly int _headDim;
    private readonly RmsNorm _normQ;
    private readonly RmsNorm _normK;
    private readonly LoraLinear _toQ;
    private readonly LoraLinear _toK;
    private readonly LoraLinear _toV;
    private readonly LoraLinear? _toOut;
    private readonly RmsNorm? _normAddedQ;
    private readonly RmsNorm? _normAddedK;
    private readonly LoraLinear? _addQProj;
    private readonly LoraLinear? _addKProj;
    private readonly LoraLinear? _addVProj;
    private readonly LoraLinear? _toAddOut;

    /// <summary>Creates the attention.</summary>
    /// <param name="dim">Query (and output) channels.</param>
    /// <param name="heads">Heads.</param>
    /// <param name="headDim">Width of one head.</param>
    /// <param name="joint">Whether the block also projects text tokens (<c>added_kv_proj_dim</c>).</param>
    /// <param name="preOnly">True for single-stream blocks (no <c>to_out</c>).</param>
    /// <param name="eps">RMSNorm epsilon.</param>
    /// <param name="placement">Parameter dtype and device.</param>
    public FluxAttention(long dim, int heads, int headDim, bool joint, bool preOnly, double eps, ModelPlacement placement)
        : base(nameof(FluxAttention))
    {
        _headDim = headDim;
        long inner = (long)heads * headDim;
        var (dt, dev) = (placement.DType, placement.Device);
        _normQ = Register("norm_q", new RmsNorm(headDim, eps, placement));
        _normK = Register("norm_k", new RmsNorm(headDim, eps, placement));
        _toQ = Register("to_q", new LoraLinear(dim, inner, true, dt, dev));
        _toK = Register("to_k", new LoraLinear(dim, inner, true, dt, dev));
        _toV = Register("to_v", new LoraLinear(dim, inner, true, dt, dev));
        if (!preOnly)
        {
            _toOut = new LoraLinear(inner, dim, true, dt, dev);
            Register("to_out", new ModuleList<nn.Module<Tensor, Tensor>>(_toOut, nn.Dropout(0.0)));
        }
        if (joint)
        {
            _normAddedQ = Register("norm_added_q", new RmsNorm(headDim, eps, placement));
            _normAddedK = Register("norm_added_k", new RmsNorm(headDim, eps, placement));
            _addQProj = Register("add_q_proj", new LoraLinear(dim, inner, true, dt, dev));
            _addKProj = Register("add_k_proj", new LoraLinear(dim, inner, true, dt, dev));
            _addVProj = Register("add_v_proj", new LoraLinear(dim, inner, true, dt, dev));
            _toAddOut = Register("to_add_out", new LoraLinear(inner, dim, true, dt, dev));
        }
    }

    /// <summary>
    /// Attention over the image tokens <paramref name="hiddenStates"/> (B, N, D), joined with the text tokens
    /// <paramref name="encoderHiddenStates"/> (B, T, D) when given. Returns the image and text outputs after their
    /// output projections (joint), or the raw attention of the single sequence (<c>pre_only</c>, text null).
    /// </summary>
    public (Tensor Image, Tensor? Text) Forward(Tensor hiddenStates, Tensor? encoderHiddenStates, (Tensor Cos, Tensor Sin)? rope)
    {
        using var scope = NewDisposeScope();
        Tensor query = _normQ.call(Heads(_toQ.call(hiddenStates)));
        Tensor key = _normK.call(Heads(_toK.call(hiddenStates)));
        Tensor value = Heads(_toV.call(hiddenStates));
        bool joint = encoderHiddenStates is not null && _addQProj is not null;
        if (joint)
        {
            Tensor eq = _normAddedQ!.call(Heads(_addQProj!.call(encoderHiddenStates!)));
            Tensor ek = _normAddedK!.call(Heads(_addKProj!.call(encoderHiddenStates!)));
            Tensor ev = Heads(_addVProj!.call(encoderHiddenStates!));
            query = cat(new[] { eq, query }, 1);
            key = cat(new[] { ek, key }, 1);
            value = cat(new[] { ev, value }, 1);
        }
        if (rope is { } r)
        {
            query = FluxRotaryEmbedding.Apply(query, r);
            key = FluxRotaryEmbedding.Apply(key, r);
        }
        Tensor attended = nn.functional.scaled_dot_product_attention(
            query.permute(0, 2, 1, 3), key.permute(0, 2, 1, 3), value.permute(0, 2, 1, 3)).permute(0, 2, 1, 3);
        Tensor hidden = attended.flatten(2, 3).to_type(query.dtype);
        if (encoderHiddenStates is null)
            return (hidden.MoveToOuterDisposeScope(), null);

        long textLength = encoderHiddenStates.shape[1];
        Tensor text = hidden.narrow(1, 0, textLength);
        Tensor image = hidden.narrow(1, textLength, hidden.shape[1] - textLength);
        image = _toOut is null ? image : _toOut.call(image.contiguous());
        Tensor? textOut = _toAddOut is null ? text : _toAddOut.call(text.contiguous());
        return (image.MoveToOuterDisposeScope(), textOut.MoveToOuterDisposeScope());
    }

    private Tensor Heads(Tensor projected) => projected.unflatten(projected.Dimensions - 1, new long[] { -1, _headDim });
}
