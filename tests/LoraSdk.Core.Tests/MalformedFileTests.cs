using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace LoraSdk.Core.Tests;

/// <summary>
/// A corpus of generated malformed files: each must raise a <see cref="SafetensorsFormatException"/> of the expected
/// kind naming the file, without crashing, hanging or allocating anything near a declared (lying) size.
/// </summary>
public sealed class MalformedFileTests
{
    private const string Down = "lora_unet_down_blocks_1_attentions_0_proj_in.lora_down.weight";
    private const string Up = "lora_unet_down_blocks_1_attentions_0_proj_in.lora_up.weight";

    /// <summary>A valid header: two 4x2 / 2x4 F32 tensors (32 bytes each) and metadata.</summary>
    private const string ValidJson =
        "{\"__metadata__\":{\"format\":\"pt\"},\"" + Down + "\":{\"dtype\":\"F32\",\"shape\":[2,4],\"data_offsets\":[0,32]},"
        + "\"" + Up + "\":{\"dtype\":\"F32\",\"shape\":[4,2],\"data_offsets\":[32,64]}}";

    private static byte[] File(string json, int dataBytes = 64, ulong? declaredLength = null)
    {
        var j = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + j.Length + dataBytes];
        BitConverter.GetBytes(declaredLength ?? (ulong)j.Length).CopyTo(bytes, 0);
        j.CopyTo(bytes, 8);
        return bytes;
    }

    private static string Entry(string dtype = "\"F32\"", string shape = "[2,4]", string offsets = "[0,32]") =>
        "{\"t\":{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";

    public static IEnumerable<object[]> Corpus()
    {
        var valid = File(ValidJson);
        yield return Case("empty file", Array.Empty<byte>(), SafetensorsErrorKind.TooShortForLengthPrefix);
        yield return Case("7 bytes", new byte[7], SafetensorsErrorKind.TooShortForLengthPrefix);
        yield return Case("length prefix only, zero header", new byte[8], SafetensorsErrorKind.InvalidJson);
        yield return Case("header length 2^64-1", File(ValidJson, 64, ulong.MaxValue), SafetensorsErrorKind.HeaderTooLarge);
        yield return Case("header length 100 MB + 1", File(ValidJson, 64, 100UL * 1024 * 1024 + 1), SafetensorsErrorKind.HeaderTooLarge);
        yield return Case("header length just under the bound, past EOF", File(ValidJson, 64, 100UL * 1024 * 1024), SafetensorsErrorKind.HeaderPastEndOfFile);
        yield return Case("header length past EOF by one", File(ValidJson, 0, (ulong)ValidJson.Length + 1), SafetensorsErrorKind.HeaderPastEndOfFile);
        yield return Case("truncated inside the header", valid.Take(8 + ValidJson.Length / 2).ToArray(), SafetensorsErrorKind.HeaderPastEndOfFile);
        yield return Case("truncated inside the data", valid.Take(valid.Length - 5).ToArray(), SafetensorsErrorKind.DataSectionMismatch);
        yield return Case("trailing bytes after the data", valid.Concat(new byte[3]).ToArray(), SafetensorsErrorKind.DataSectionMismatch);
        yield return Case("header length too short: JSON cut", File(ValidJson, 64, (ulong)ValidJson.Length - 1), SafetensorsErrorKind.InvalidJson);
        yield return Case("invalid UTF-8 in a key", Patch(File(ValidJson), 8 + ValidJson.IndexOf("lora_up", StringComparison.Ordinal), 0xC3, 0x28), SafetensorsErrorKind.InvalidUtf8);
        yield return Case("missing closing brace", File(ValidJson.Substring(0, ValidJson.Length - 1) + " "), SafetensorsErrorKind.InvalidJson);
        yield return Case("trailing comma", File(ValidJson.Substring(0, ValidJson.Length - 1) + ",}"), SafetensorsErrorKind.InvalidJson);
        yield return Case("NUL padding", File(ValidJson + "\0\0\0"), SafetensorsErrorKind.InvalidJson);
        yield return Case("UTF-8 BOM", File("\uFEFF" + ValidJson), SafetensorsErrorKind.InvalidJson);
        yield return Case("duplicate tensor name", File("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,4],\"data_offsets\":[0,32]},\"t\":{\"dtype\":\"F32\",\"shape\":[2,4],\"data_offsets\":[32,64]}}"), SafetensorsErrorKind.InvalidJson);
        yield return Case("nesting 300 deep", File("{\"__metadata__\":" + new string('[', 300) + new string(']', 300) + "}", 0), SafetensorsErrorKind.InvalidJson);
        yield return Case("header is an array", File("[1,2,3]", 0), SafetensorsErrorKind.NotAnObject);
        yield return Case("header is a string", File("\"lora\"", 0), SafetensorsErrorKind.NotAnObject);
        yield return Case("tensor entry is a number", File("{\"t\":5}", 0), SafetensorsErrorKind.NotAnObject);
        yield return Case("missing dtype", File("{\"t\":{\"shape\":[2,4],\"data_offsets\":[0,32]}}", 32), SafetensorsErrorKind.MissingField);
        yield return Case("missing shape", File("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,32]}}", 32), SafetensorsErrorKind.MissingField);
        yield return Case("missing data_offsets", File("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,4]}}", 32), SafetensorsErrorKind.MissingField);
        yield return Case("dtype is a number", File(Entry(dtype: "7"), 32), SafetensorsErrorKind.MissingField);
        yield return Case("shape is an object", File(Entry(shape: "{}"), 32), SafetensorsErrorKind.MissingField);
        yield return Case("unknown dtype F128", File(Entry(dtype: "\"F128\""), 32), SafetensorsErrorKind.UnknownDType);
        yield return Case("lower-case dtype", File(Entry(dtype: "\"f32\""), 32), SafetensorsErrorKind.UnknownDType);
        yield return Case("negative dimension", File(Entry(shape: "[-2,-4]"), 32), SafetensorsErrorKind.InvalidShape);
        yield return Case("fractional dimension", File(Entry(shape: "[2.5,4]"), 32), SafetensorsErrorKind.InvalidShape);
        yield return Case("dimension is a string", File(Entry(shape: "[\"2\",4]"), 32), SafetensorsErrorKind.InvalidShape);
        yield return Case("dimension beyond int64", File(Entry(shape: "[99999999999999999999,4]"), 32), SafetensorsErrorKind.InvalidShape);
        yield return Case("three data offsets", File(Entry(offsets: "[0,16,32]"), 32), SafetensorsErrorKind.InvalidOffsets);
        yield return Case("begin after end", File(Entry(offsets: "[32,0]"), 32), SafetensorsErrorKind.InvalidOffsets);
        yield return Case("negative offset", File(Entry(offsets: "[-32,0]"), 32), SafetensorsErrorKind.InvalidOffsets);
        yield return Case("offsets are strings", File(Entry(offsets: "[\"0\",\"32\"]"), 32), SafetensorsErrorKind.InvalidOffsets);
        yield return Case("offsets past EOF", File(Entry(offsets: "[0,32000000000]"), 32), SafetensorsErrorKind.DataSectionMismatch);
        yield return Case("byte length != shape x dtype", File(Entry(shape: "[2,2]"), 32), SafetensorsErrorKind.LengthMismatch);
        yield return Case("byte length != shape x dtype (BF16)", File(Entry(dtype: "\"BF16\""), 32), SafetensorsErrorKind.LengthMismatch);
        yield return Case("element count overflows", File(Entry(shape: "[4294967296,4294967296,4294967296]"), 32), SafetensorsErrorKind.LengthMismatch);
        yield return Case("overlapping tensors", File("{\"a\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]},\"b\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[16,48]}}", 48), SafetensorsErrorKind.NonContiguous);
        yield return Case("gap between tensors", File("{\"a\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]},\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[48,64]}}", 64), SafetensorsErrorKind.NonContiguous);
        yield return Case("data does not start at 0", File(Entry(shape: "[4]", offsets: "[16,32]"), 32), SafetensorsErrorKind.NonContiguous);
        yield return Case("two tensors at the same offsets", File("{\"a\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]},\"b\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}", 32), SafetensorsErrorKind.NonContiguous);
        yield return Case("tensors cover less than the data", File(Entry(shape: "[4]", offsets: "[0,16]"), 32), SafetensorsErrorKind.DataSectionMismatch);
        yield return Case("metadata value is a number", File("{\"__metadata__\":{\"format\":\"pt\",\"ss_epoch\":3}}", 0), SafetensorsErrorKind.InvalidMetadata);
        yield return Case("metadata value is null", File("{\"__metadata__\":{\"trigger\":null}}", 0), SafetensorsErrorKind.InvalidMetadata);
        yield return Case("metadata is an array", File("{\"__metadata__\":[\"pt\"]}", 0), SafetensorsErrorKind.InvalidMetadata);
        yield return Case("metadata value is an object", File("{\"__metadata__\":{\"lora_adapter_metadata\":{\"r\":4}}}", 0), SafetensorsErrorKind.InvalidMetadata);
    }

    private static object[] Case(string name, byte[] bytes, SafetensorsErrorKind kind) => new object[] { name, bytes, kind };

    private static byte[] Patch(byte[] bytes, int at, params byte[] values)
    {
        var copy = (byte[])bytes.Clone();
        values.CopyTo(copy, at);
        return copy;
    }

    [Fact]
    public void TheCorpusHasAtLeastThirtyDistinctFiles()
    {
        var files = Corpus().Select(c => Convert.ToBase64String((byte[])c[1])).ToList();
        Assert.True(files.Count >= 30, $"{files.Count} cases");
        Assert.Equal(files.Count, files.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void MalformedFilesRaiseTypedErrorsWithoutOverAllocating(string name, byte[] bytes, SafetensorsErrorKind kind)
    {
        string source = "corpus/" + name.Replace(' ', '_') + ".safetensors";
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<SafetensorsFormatException>(() =>
            LoraFileModel.Read(new MemoryStream(bytes, writable: false), bytes.Length, source));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(kind == e.Kind, $"{name}: expected {kind}, got {e.Kind}: {e.Message}");
        Assert.Equal(source, e.SourceName);
        Assert.StartsWith(source + ": ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Reason);
        // Nothing sized by a declared length: the reader's allocations stay within a small constant plus a multiple
        // of the actual bytes (JSON DOM), far below the 100 MB a lying length prefix asks for.
        Assert.True(allocated < 256 * 1024 + 64L * bytes.Length, $"{name}: allocated {allocated} bytes for a {bytes.Length}-byte file");
    }

    [Fact]
    public void TensorOrderInTheJsonDoesNotMatterOnlyTheOffsets()
    {
        // The format's reference implementation sorts entries by offset before checking contiguity; so do we.
        var bytes = File("{\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]},\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 32);
        var header = SafetensorsHeader.Read(new MemoryStream(bytes), bytes.Length, "unsorted");
        Assert.Equal(new[] { "a", "b" }, header.Tensors.Select(t => t.Name));
    }

    [Theory]
    [InlineData(".ckpt")]
    [InlineData(".bin")]
    [InlineData(".pt")]
    [InlineData(".PTH")]
    public void PickleCheckpointsAreRefusedByExtensionBeforeOpening(string extension)
    {
        using var dir = TestPaths.TempDir();
        string path = dir.File("model" + extension);
        System.IO.File.WriteAllBytes(path, File(ValidJson)); // even valid safetensors bytes: the name says pickle
        var e = Assert.Throws<SafetensorsFormatException>(() => LoraFileModel.Read(path));
        Assert.Equal(SafetensorsErrorKind.UnsupportedFormat, e.Kind);
        Assert.Contains("pickle", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFilesAreIoErrors()
    {
        using var dir = TestPaths.TempDir();
        var e = Assert.Throws<SafetensorsFormatException>(() => LoraFileModel.Read(dir.File("absent.safetensors")));
        Assert.Equal(SafetensorsErrorKind.IoError, e.Kind);
        Assert.Contains("absent.safetensors", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHugeDeclaredHeaderOnDiskIsRejectedBeforeAllocation()
    {
        using var dir = TestPaths.TempDir();
        string path = dir.File("liar.safetensors");
        System.IO.File.WriteAllBytes(path, File(ValidJson, 64, 100UL * 1024 * 1024 - 8));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<SafetensorsFormatException>(() => LoraFileModel.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(SafetensorsErrorKind.HeaderPastEndOfFile, e.Kind);
        Assert.True(allocated < 1024 * 1024, $"allocated {allocated} bytes");
    }
}
