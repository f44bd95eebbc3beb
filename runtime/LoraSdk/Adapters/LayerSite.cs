using System;
using System.Collections;
using System.Collections.Generic;
using System.Reflection;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Adapters;

/// <summary>
/// One LoRA-capable position in a component's module tree: a <see cref="LoraLinear"/> / <see cref="LoraConv2d"/>, or a
/// plain <c>nn.Linear</c> / <c>nn.Conv2d</c> that is wrapped on first use (the wrapper shares its parameters and
/// replaces it in the parent's field and registered children) and put back by unload.
/// </summary>
internal sealed class LayerSite
{
    private static readonly FieldInfo? SubmodulesField =
        typeof(nn.Module).GetField("_internal_submodules", BindingFlags.Instance | BindingFlags.NonPublic);

    private readonly nn.Module? _plain;
    private readonly nn.Module? _parent;
    private readonly string _childName;
    private LoraLayer? _layer;

    private LayerSite(string path, int order, LoraLayer? layer, nn.Module? plain, nn.Module? parent, string childName)
    {
        Path = path;
        Order = order;
        _layer = layer;
        _plain = plain;
        _parent = parent;
        _childName = childName;
    }

    public string Path { get; }

    /// <summary>Position in the component's <c>named_modules</c> order.</summary>
    public int Order { get; }

    /// <summary>The LoRA layer, or null while a plain layer is not wrapped.</summary>
    public LoraLayer? Layer => _layer;

    public LayerAdapters? Adapters => _layer?.Adapters;

    public bool IsPlain => _plain is not null;

    public bool IsWrapped => _plain is not null && _layer is not null;

    public bool IsConvolution => _layer?.IsConvolution ?? _plain is Conv2d;

    /// <summary>(out, in[, kh, kw]) of the base weight.</summary>
    public long[] WeightShape => (_layer?.Weight ?? PlainWeight()).shape;

    public ScalarType WeightDType => (_layer?.Weight ?? PlainWeight()).dtype;

    public Device WeightDevice => (_layer?.Weight ?? PlainWeight()).device;

    public (long H, long W) Stride => _layer is LoraConv2d c ? c.Stride : _plain is Conv2d p ? (p.stride[0], p.stride[1]) : (1, 1);

    public (long H, long W) Padding => _layer is LoraConv2d c ? c.Padding
        : _plain is Conv2d p && p.padding is long[] pad ? (pad[0], pad[1]) : (0, 0);

    public static LayerSite ForLayer(string path, int order, LoraLayer layer) =>
        new LayerSite(path, order, layer, null, null, "");

    public static LayerSite ForPlain(string path, int order, nn.Module plain, nn.Module parent, string childName) =>
        new LayerSite(path, order, null, plain, parent, childName);

    private Parameter PlainWeight() => _plain switch
    {
        Linear l => l.weight,
        Conv2d c => c.weight!,
        _ => throw new InvalidOperationException("not a Linear/Conv2d"),
    };

    /// <summary>Why this plain layer cannot be wrapped, or null when it can (checked before anything changes).</summary>
    public string? CheckWrappable()
    {
        if (_plain is null || _layer is not null) return null;
        if (_plain is Conv2d conv)
        {
            if (conv.groups != 1) return "grouped convolutions are not supported";
            if (conv.dilation[0] != 1 || conv.dilation[1] != 1) return "dilated convolutions are not supported";
            if (conv.padding_mode != PaddingModes.Zeros) return "only zero padding is supported";
            if (conv.padding is null) return "string padding ('same'/'valid') is not supported";
        }
        Type wrapperType = _plain is Conv2d ? typeof(LoraConv2d) : typeof(LoraLinear);
        if (_parent is null) return "the layer has no parent module";
        if (IsModuleList(_parent, out var itemType))
            return itemType.IsAssignableFrom(wrapperType) ? null : $"its ModuleList holds {itemType.Name} items, which cannot hold a {wrapperType.Name}";
        if (_parent is Sequential) return "layers inside nn.Sequential cannot be replaced in place";
        var field = FindField();
        if (field is null) return $"no field of {_parent.GetType().Name} holds it (TorchSharp calls fields in forward)";
        if (!field.FieldType.IsAssignableFrom(wrapperType))
            return $"field '{field.Name}' of {_parent.GetType().Name} has type {field.FieldType.Name}; declare it as Module<Tensor, Tensor> so it can hold a {wrapperType.Name}";
        if (SubmodulesField is null) return "this TorchSharp version hides the registered submodules";
        return null;
    }

    /// <summary>Wraps the plain layer (after <see cref="CheckWrappable"/> returned null).</summary>
    public void EnsureWrapped()
    {
        if (_layer is not null) return;
        nn.Module wrapper = _plain switch
        {
            Linear l => new LoraLinear(l.weight, l.bias),
            Conv2d c => new LoraConv2d(c.weight!, c.bias, (c.stride[0], c.stride[1]), (c.padding![0], c.padding[1])),
            _ => throw new InvalidOperationException("not a Linear/Conv2d"),
        };
        Replace(_plain!, wrapper);
        _layer = (LoraLayer)wrapper;
    }

    /// <summary>Puts the original plain layer back (its parameters hold any fused weights).</summary>
    public void Unwrap()
    {
        if (_plain is null || _layer is null) return;
        Replace((nn.Module)_layer, _plain);
        _layer = null;
    }

    private void Replace(nn.Module current, nn.Module replacement)
    {
        if (IsModuleList(_parent!, out _))
        {
            var list = (IList)_parent!;
            int index = list.IndexOf(current);
            list[index] = replacement;
        }
        else
        {
            FindField(current)!.SetValue(_parent, replacement);
        }
        var children = (IDictionary<string, nn.Module>)SubmodulesField!.GetValue(_parent)!;
        children[_childName] = replacement;
    }

    private FieldInfo? FindField(object? target = null)
    {
        target ??= _plain;
        for (var t = _parent!.GetType(); t is not null && t != typeof(object); t = t.BaseType)
        {
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                if (!f.FieldType.IsValueType && ReferenceEquals(f.GetValue(_parent), target)) return f;
        }
        return null;
    }

    private static bool IsModuleList(nn.Module module, out Type itemType)
    {
        for (var t = module.GetType(); t is not null; t = t.BaseType)
        {
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(ModuleList<>))
            {
                itemType = t.GetGenericArguments()[0];
                return true;
            }
        }
        itemType = typeof(object);
        return false;
    }
}
