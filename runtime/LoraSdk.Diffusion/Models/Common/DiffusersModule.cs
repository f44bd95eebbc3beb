using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Models.Common;

/// <summary>
/// Base of the host's multi-input modules. Submodules are registered explicitly, under diffusers' / transformers'
/// state-dict names, by <see cref="Register{T}"/>; TorchSharp's reflection-based registration of fields is turned
/// off so C# field names never leak into module paths.
/// </summary>
public abstract class DiffusersModule : nn.Module
{
    /// <summary>Creates the module; <paramref name="name"/> is TorchSharp's debugging name.</summary>
    protected DiffusersModule(string name) : base(name) { }

    /// <summary>Registers <paramref name="module"/> as the child <paramref name="name"/> and returns it.</summary>
    protected T Register<T>(string name, T module) where T : nn.Module
    {
        register_module(name, module);
        return module;
    }

    /// <summary>No reflection-based registration: children are registered by name in constructors.</summary>
    protected override void RegisterComponents() { }

    /// <summary>
    /// All descendants in PyTorch's <c>named_modules()</c> order (depth-first pre-order: a child, then its
    /// descendants, then the next child), excluding this module. TorchSharp's default lists all direct children first;
    /// PEFT-compatible code (adapter injection order, DARE's random masks) needs PyTorch's order.
    /// </summary>
    public override IEnumerable<(string name, nn.Module module)> named_modules() => ModuleOrder.PreOrder(this);
}

/// <summary>
/// Base of the host's single-input modules (see <see cref="DiffusersModule"/> for the registration rule).
/// </summary>
/// <typeparam name="TIn">Input type.</typeparam>
/// <typeparam name="TOut">Output type.</typeparam>
public abstract class DiffusersModule<TIn, TOut> : nn.Module<TIn, TOut>
{
    /// <summary>Creates the module; <paramref name="name"/> is TorchSharp's debugging name.</summary>
    protected DiffusersModule(string name) : base(name) { }

    /// <summary>Registers <paramref name="module"/> as the child <paramref name="name"/> and returns it.</summary>
    protected T Register<T>(string name, T module) where T : nn.Module
    {
        register_module(name, module);
        return module;
    }

    /// <summary>No reflection-based registration: children are registered by name in constructors.</summary>
    protected override void RegisterComponents() { }

    /// <summary>
    /// All descendants in PyTorch's <c>named_modules()</c> order (depth-first pre-order: a child, then its
    /// descendants, then the next child), excluding this module. TorchSharp's default lists all direct children first;
    /// PEFT-compatible code (adapter injection order, DARE's random masks) needs PyTorch's order.
    /// </summary>
    public override IEnumerable<(string name, nn.Module module)> named_modules() => ModuleOrder.PreOrder(this);
}
