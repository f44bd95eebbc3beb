using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LoraSdk.Layers;

/// <summary>
/// A drop-in replacement for <c>nn.Conv2d</c> that can carry LoRA adapters. Parameters are registered as
/// <c>weight</c> (out, in, kh, kw) and <c>bias</c> (out), the same state-dict names as <c>nn.Conv2d</c>. Without
/// adapters, forward is exactly <c>F.conv2d</c> with the layer's stride and padding (groups = dilation = 1). An
/// adapter's A is a convolution with the base kernel, stride and padding, its B a 1×1 convolution (PEFT's layout).
/// </summary>
public sealed class LoraConv2d : LoraLayer
{

    /// <summary>Creates a square-kernel convolution with uninitialized parameters.</summary>
    public LoraConv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
        bool hasBias = true, ScalarType? dtype = null, Device? device = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), (padding, padding), hasBias, dtype, device)
    {
    }

    /// <summary>Creates a convolution with uninitialized parameters.</summary>
    public LoraConv2d(long inChannels, long outChannels, (long H, long W) kernelSize, (long H, long W) stride,
        (long H, long W) padding, bool hasBias = true, ScalarType? dtype = null, Device? device = null)
        : base(nameof(LoraConv2d))
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize.H <= 0 || kernelSize.W <= 0)
            throw new ArgumentOutOfRangeException(nameof(inChannels), "channels and kernel size must be positive");
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        weight = new Parameter(torch.empty(new[] { outChannels, inChannels, kernelSize.H, kernelSize.W }, dtype ?? ScalarType.Float32, device), requires_grad: false);
        bias = hasBias ? new Parameter(torch.empty(new[] { outChannels }, dtype ?? ScalarType.Float32, device), requires_grad: false) : null;
        AttachAdapters();
        RegisterComponents();
    }

    /// <summary>Wraps existing parameters (shared, not copied): used to make a plain <c>nn.Conv2d</c> LoRA-capable.</summary>
    internal LoraConv2d(Parameter existingWeight, Parameter? existingBias, (long H, long W) stride, (long H, long W) padding)
        : base(nameof(LoraConv2d))
    {
        if (existingWeight.dim() != 4) throw new ArgumentException("a Conv2d weight must be 4-D", nameof(existingWeight));
        OutChannels = existingWeight.shape[0];
        InChannels = existingWeight.shape[1];
        KernelSize = (existingWeight.shape[2], existingWeight.shape[3]);
        Stride = stride;
        Padding = padding;
        weight = existingWeight;
        bias = existingBias;
        AttachAdapters();
        RegisterComponents();
    }

#pragma warning disable IDE1006
    private Parameter weight;
    private Parameter? bias;
#pragma warning restore IDE1006

    /// <summary>Input channels.</summary>
    public long InChannels { get; }

    /// <summary>Output channels.</summary>
    public long OutChannels { get; }

    /// <summary>Kernel height and width.</summary>
    public (long H, long W) KernelSize { get; }

    /// <summary>Stride (height, width).</summary>
    public (long H, long W) Stride { get; }

    /// <summary>Zero padding (height, width).</summary>
    public (long H, long W) Padding { get; }

    /// <summary>The (out, in, kh, kw) weight.</summary>
    public override Parameter Weight => weight;

    /// <summary>The bias, or null.</summary>
    public override Parameter? Bias => bias;

    /// <inheritdoc />
    public override long InFeatures => InChannels;

    /// <inheritdoc />
    public override long OutFeatures => OutChannels;

    /// <inheritdoc />
    public override bool IsConvolution => true;

    private protected override Tensor BaseOutput(Tensor input) =>
        nn.functional.conv2d(input, weight, bias, new[] { Stride.H, Stride.W }, new[] { Padding.H, Padding.W });

    internal override void AddLowRank(Tensor input, Tensor result, Tensor a, Tensor b, double scale)
    {
        using var scope = torch.NewDisposeScope();
        result.add_(LowRankOutput(input, a, b), scale);
    }

    internal override void AddDense(Tensor input, Tensor result, Tensor delta, double scale)
    {
        using var scope = torch.NewDisposeScope();
        result.add_(nn.functional.conv2d(input, delta, null, new[] { Stride.H, Stride.W }, new[] { Padding.H, Padding.W }), scale);
    }

    internal override Tensor LowRankOutput(Tensor input, Tensor a, Tensor b)
    {
        var hidden = nn.functional.conv2d(input, a, null, new[] { Stride.H, Stride.W }, new[] { Padding.H, Padding.W });
        return nn.functional.conv2d(hidden, b.dim() == 4 ? b : b.view(b.shape[0], b.shape[1], 1, 1));
    }

    internal override Tensor? BiasForOutput() => bias?.view(1, -1, 1, 1);
}
