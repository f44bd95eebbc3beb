using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using LoraSdk.Core;
using LoraSdk.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.Engine.Tests.IO;

/// <summary>Runtime safetensors I/O: zero-copy loading, one-copy fallback, copy-on-write, round trips.</summary>
public sealed class SafetensorsFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lorasdk-io-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "LoraSdk.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("LoraSdk.sln not found above " + AppContext.BaseDirectory);
    }

    private static unsafe long Address(Tensor t)
    {
        fixed (byte* p = t.bytes) return (long)p;
    }

    [Fact]
    public void Every_fixture_lora_tensor_loads_with_the_bytes_of_the_file()
    {
        foreach (string path in Directory.GetFiles(Path.Combine(RepoRoot(), "tests", "fixtures", "loras"), "*.safetensors"))
        {
            byte[] file = File.ReadAllBytes(path);
            using var st = SafetensorsFile.Open(path);
            foreach (var info in st.Header.Tensors)
            {
                using var t = st.Load(info.Name);
                Assert.Equal(info.Shape, t.shape);
                var expected = new ReadOnlySpan<byte>(file, (int)(st.Header.DataOffset + info.Begin), (int)info.ByteLength);
                Assert.True(expected.SequenceEqual(t.contiguous().bytes), $"{path}: bytes of '{info.Name}' differ");
            }
        }
    }

    [Fact]
    public void Written_files_round_trip_bit_identically_and_load_zero_copy()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(42);
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = randn(new long[] { 3, 5 }, generator: gen),
            ["f16"] = randn(new long[] { 7 }, generator: gen).to(ScalarType.Float16),
            ["bf16"] = randn(new long[] { 2, 3, 3 }, generator: gen).to(ScalarType.BFloat16),
            ["f64"] = randn(new long[] { 1 }, generator: gen).to(ScalarType.Float64),
            ["i64"] = arange(0, 9, ScalarType.Int64),
            ["u8"] = arange(0, 5, ScalarType.Byte),
            ["bool"] = tensor(new[] { true, false, true }),
            ["scalar"] = tensor(8.0f),
        };
        string path = Path.Combine(_dir, "rt.safetensors");
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\"" };
        SafetensorsWriter.Save(path, tensors, meta);

        using var st = SafetensorsFile.Open(path);
        Assert.Equal(0, st.Header.DataOffset % 8);
        Assert.Equal(meta, st.Header.Metadata);
        foreach (var kv in tensors)
        {
            Assert.True(st.IsZeroCopy(kv.Key), $"'{kv.Key}' should be aligned for zero-copy loading");
            using var back = st.Load(kv.Key);
            Assert.Equal(kv.Value.dtype, back.dtype);
            Assert.Equal(kv.Value.shape, back.shape);
            Assert.True(kv.Value.contiguous().bytes.SequenceEqual(back.bytes), $"'{kv.Key}' changed in the round trip");
        }

        // Writing what we read gives the same file, byte for byte.
        string again = Path.Combine(_dir, "rt2.safetensors");
        var loaded = st.LoadAll();
        SafetensorsWriter.Save(again, loaded, meta);
        foreach (var t in loaded.Values) t.Dispose();
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    [Fact]
    public void Zero_copy_loads_view_the_same_mapping_and_writes_never_reach_the_file()
    {
        string path = Path.Combine(_dir, "cow.safetensors");
        using (var w = arange(0, 16, ScalarType.Float32)) SafetensorsWriter.Save(path, new[] { KeyValuePair.Create("w", w) });
        byte[] before = SHA256.HashData(File.ReadAllBytes(path));

        using (var st = SafetensorsFile.Open(path))
        {
            using var a = st.Load("w");
            using var b = st.Load("w");
            Assert.Equal(Address(a), Address(b)); // both are views of one private mapping: no copy was made
            a.add_(100f);
            Assert.Equal(100f, b[0].item<float>()); // same memory
        }
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(path))); // copy-on-write: the file is untouched
        using var st2 = SafetensorsFile.Open(path);
        using var c = st2.Load("w");
        Assert.Equal(0f, c[0].item<float>());
    }

    [Fact]
    public void The_cached_mapping_survives_a_dispose_scope_around_an_earlier_load()
    {
        string path = Path.Combine(_dir, "scoped.safetensors");
        using (var w = arange(0, 4, ScalarType.Float32)) SafetensorsWriter.Save(path, new[] { KeyValuePair.Create("w", w) });
        using var st = SafetensorsFile.Open(path);
        using (NewDisposeScope())
        {
            var inside = st.Load("w"); // the first load creates the mapping inside the caller's scope
            Assert.Equal(3f, inside[3].item<float>());
        }
        using var after = st.Load("w");
        Assert.Equal(3f, after[3].item<float>());
    }

    [Fact]
    public void Unaligned_tensors_load_with_one_copy_and_correct_values()
    {
        // Hand-made header of odd length: the data section starts at an offset that is not a multiple of 4.
        string json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}";
        Assert.NotEqual(0, (8 + json.Length) % 4);
        var bytes = new List<byte>(BitConverter.GetBytes((ulong)json.Length));
        bytes.AddRange(Encoding.UTF8.GetBytes(json));
        foreach (float f in new[] { 1.5f, -2f, 3.25f }) bytes.AddRange(BitConverter.GetBytes(f));
        string path = Path.Combine(_dir, "odd.safetensors");
        File.WriteAllBytes(path, bytes.ToArray());

        using var st = SafetensorsFile.Open(path);
        Assert.False(st.IsZeroCopy("w"));
        using var t = st.Load("w");
        Assert.Equal(new[] { 1.5f, -2f, 3.25f }, t.data<float>().ToArray());
        using var d = st.Load("w", ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, d.dtype);
        Assert.Equal(-2.0, d[1].item<double>());
    }

    [Fact]
    public void Float8_tensors_decode_to_float32()
    {
        foreach (var (dtype, bytesIn, expected) in new[]
        {
            ("F8_E4M3", new byte[] { 0x38, 0xB8, 0x7E, 0x01, 0x00 }, new[] { 1f, -1f, 448f, 0.001953125f, 0f }),
            ("F8_E5M2", new byte[] { 0x3C, 0xC0, 0x7B, 0x7C, 0x01 }, new[] { 1f, -2f, 57344f, float.PositiveInfinity, 1.52587890625e-05f }),
        })
        {
            string json = $"{{\"x\":{{\"dtype\":\"{dtype}\",\"shape\":[{bytesIn.Length}],\"data_offsets\":[0,{bytesIn.Length}]}}}}";
            var file = new List<byte>(BitConverter.GetBytes((ulong)json.Length));
            file.AddRange(Encoding.UTF8.GetBytes(json));
            file.AddRange(bytesIn);
            string path = Path.Combine(_dir, dtype + ".safetensors");
            File.WriteAllBytes(path, file.ToArray());
            using var st = SafetensorsFile.Open(path);
            using var t = st.Load("x");
            Assert.Equal(ScalarType.Float32, t.dtype);
            Assert.Equal(expected, t.data<float>().ToArray());
        }
    }

    [Theory]
    [InlineData("model.bin")]
    [InlineData("model.ckpt")]
    [InlineData("model.pt")]
    [InlineData("model.pth")]
    public void Pickle_checkpoints_are_refused_without_reading_them(string name)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, new byte[] { 0x80, 0x02 }); // a pickle protocol marker
        var e = Assert.Throws<UnsupportedFileFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains("pickle", e.Message);
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Missing_tensor_names_the_file_and_key()
    {
        string path = Path.Combine(_dir, "one.safetensors");
        using (var w = zeros(2)) SafetensorsWriter.Save(path, new[] { KeyValuePair.Create("a", w) });
        using var st = SafetensorsFile.Open(path);
        var e = Assert.Throws<KeyNotFoundException>(() => st.Load("nope"));
        Assert.Contains("one.safetensors", e.Message);
        Assert.Contains("'nope'", e.Message);
    }
}
