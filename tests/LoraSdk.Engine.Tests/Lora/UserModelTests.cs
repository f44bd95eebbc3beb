using System;
using System.Linq;
using LoraSdk.Adapters;
using LoraSdk.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.Lora;

/// <summary>
/// A user's own TorchSharp model with plain <c>nn.Linear</c>/<c>nn.Conv2d</c> in <c>Module&lt;Tensor, Tensor&gt;</c>
/// fields becomes LoRA-capable: targeted layers are wrapped in place (sharing parameters), unload puts the originals back.
/// </summary>
public sealed class UserModelTests
{
    private sealed class UserModel : nn.Module<Tensor, Tensor>
    {
#pragma warning disable IDE1006
        private nn.Module<Tensor, Tensor> fc1;
        private nn.Module<Tensor, Tensor> fc2;
        private readonly Linear head;
#pragma warning restore IDE1006

        public UserModel() : base("user")
        {
            fc1 = nn.Linear(6, 10);
            fc2 = nn.Linear(10, 4);
            head = nn.Linear(4, 2);
            RegisterComponents();
        }

        public nn.Module<Tensor, Tensor> Fc1 => fc1;

        public override Tensor forward(Tensor x)
        {
            using var h = fc1.forward(x);
            using var r = nn.functional.relu(h);
            return fc2.forward(r);
        }
    }

    private static LoraAdapterDefinition Adapter(string path, long inF, long outF, int rank, long seed)
    {
        using var g = new Generator((ulong)seed);
        return new LoraAdapterDefinition(new[] { new LoraModuleTensors(path, randn(new[] { (long)rank, inF }, generator: g), randn(new[] { outF, (long)rank }, generator: g), rank) });
    }

    [Fact]
    public void PlainLinearFieldsAreWrappedAndRestored()
    {
        using var model = new UserModel();
        var original = model.Fc1;
        var names = model.named_modules().Select(n => n.name).ToList();
        var keys = model.state_dict().Keys.ToList();
        var c = new LoraComponent("model", model);
        Assert.Contains("fc1", c.LayerPaths);
        Assert.Null(c.GetLayer("fc1")); // wrapped only when an adapter targets it
        using var x = randn(3, 6);
        using var baseOut = model.forward(x);
        var def = Adapter("fc1", 6, 10, 2, 5);
        c.AddAdapter("a", def);
        Assert.IsType<LoraLinear>(model.Fc1);
        Assert.Same(((Linear)original).weight, ((LoraLinear)model.Fc1).Weight); // parameters shared, not copied
        Assert.Equal(names, model.named_modules().Select(n => n.name).ToList()); // same names, same order
        Assert.Equal(keys, model.state_dict().Keys.ToList());
        using var loraOut = model.forward(x);
        // expected: fc2(relu(fc1(x) + B A x))
        var lin = (Linear)original;
        using var h = nn.functional.linear(x, lin.weight, lin.bias) + x.matmul(def.Modules[0].A.t()).matmul(def.Modules[0].B.t());
        using var expected = model.named_modules().First(n => n.name == "fc2").module is Linear fc2
            ? nn.functional.linear(nn.functional.relu(h), fc2.weight, fc2.bias) : throw new InvalidOperationException();
        Assert.True(LoraTestData.Relative(loraOut, expected) < 1e-6);
        c.UnloadLora();
        Assert.Same(original, model.Fc1);
        Assert.Same(original, model.named_children().First(n => n.name == "fc1").module);
        using var after = model.forward(x);
        Assert.True(LoraForwardTests.Same(after, baseOut));
    }

    [Fact]
    public void AFieldTypedAsLinearCannotBeWrappedAndNothingChanges()
    {
        using var model = new UserModel();
        var c = new LoraComponent("model", model);
        var before = LoraTestData.Checksums(c);
        var e = Assert.Throws<LoraException>(() => c.AddAdapter("a", new LoraAdapterDefinition(new[]
        {
            Adapter("fc1", 6, 10, 2, 1).Modules[0],
            Adapter("head", 4, 2, 2, 2).Modules[0],
        })));
        Assert.Equal(LoraErrorKind.UnsupportedLayer, e.Kind);
        Assert.Contains("head", e.Message);
        Assert.Contains("Module<Tensor, Tensor>", e.Message);
        Assert.IsNotType<LoraLinear>(model.Fc1);
        Assert.Equal(before, LoraTestData.Checksums(c));
    }
}
