using System;
using System.Collections.Generic;
using LoraSdk.Diffusion.Models.Clip;
using LoraSdk.Diffusion.Models.Unet;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Tests.Support;

/// <summary>An <see cref="ILoraScaleHook"/> that records every scale scope (component, scale, open/close) in order.</summary>
public sealed class RecordingScaleHook : ILoraScaleHook
{
    /// <summary>Events such as <c>"+unet 0.5"</c> and <c>"-unet 0.5"</c>.</summary>
    public List<string> Events { get; } = new();

    /// <inheritdoc />
    public IDisposable Scale(nn.Module component, double scale)
    {
        string name = component switch
        {
            UNet2DConditionModel => "unet",
            ClipTextModelWithProjection => "text_encoder_2",
            ClipTextModel => "text_encoder",
            _ => component.GetType().Name,
        };
        string label = $"{name} {scale.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        Events.Add("+" + label);
        return new Scope(() => Events.Add("-" + label));
    }

    private sealed class Scope : IDisposable
    {
        private Action? _onDispose;

        public Scope(Action onDispose) => _onDispose = onDispose;

        public void Dispose()
        {
            _onDispose?.Invoke();
            _onDispose = null;
        }
    }
}
