using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace LoraSdk.Core;

/// <summary>
/// The parsed, validated header of a safetensors file: an 8-byte little-endian length N, then N bytes of UTF-8 JSON
/// (tensor entries and an optional <c>__metadata__</c> object of strings), then the data section. Reading a header
/// touches only those 8 + N bytes, never tensor data.
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>Upper bound on the JSON header length (100 MB), checked before anything is allocated.</summary>
    public const long MaxHeaderLength = 100L * 1024 * 1024;

    private static readonly IReadOnlyDictionary<string, string> EmptyMetadata = new Dictionary<string, string>();
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;

    private SafetensorsHeader(string sourceName, long fileLength, long headerLength, List<SafetensorsTensorInfo> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        SourceName = sourceName;
        FileLength = fileLength;
        HeaderLength = headerLength;
        Tensors = tensors;
        Metadata = metadata;
        _byName = new Dictionary<string, SafetensorsTensorInfo>(tensors.Count, StringComparer.Ordinal);
        foreach (var t in tensors) _byName[t.Name] = t;
    }

    /// <summary>The file path or stream name the header came from.</summary>
    public string SourceName { get; }

    /// <summary>Total length of the file in bytes.</summary>
    public long FileLength { get; }

    /// <summary>N: bytes of header JSON (including any padding spaces).</summary>
    public long HeaderLength { get; }

    /// <summary>Absolute offset of the data section (8 + N).</summary>
    public long DataOffset => 8 + HeaderLength;

    /// <summary>Tensor entries sorted by their position in the data section.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> strings (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Looks a tensor up by key.</summary>
    public bool TryGetTensor(string name, out SafetensorsTensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <summary>True when the key exists.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Reads and validates the header of a file. Pickle-based checkpoints are refused by extension.</summary>
    /// <exception cref="SafetensorsFormatException">The file is not a valid safetensors file.</exception>
    public static SafetensorsHeader Read(string path)
    {
        RefusePickle(path);
        if (Directory.Exists(path))
            throw new SafetensorsFormatException(SafetensorsErrorKind.IoError, path, "is a directory; expected a .safetensors file");
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.None);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            throw new SafetensorsFormatException(SafetensorsErrorKind.IoError, path, e.Message, e);
        }
        using (stream) return Read(stream, stream.Length, path);
    }

    /// <summary>Reads and validates a header from the current position of <paramref name="stream"/>.</summary>
    /// <param name="stream">Positioned at the start of the safetensors data.</param>
    /// <param name="streamLength">Bytes of safetensors data available from that position (the file length).</param>
    /// <param name="sourceName">Name used in error messages.</param>
    public static SafetensorsHeader Read(Stream stream, long streamLength, string sourceName)
    {
        if (streamLength < 8)
            throw new SafetensorsFormatException(SafetensorsErrorKind.TooShortForLengthPrefix, sourceName,
                $"file is {streamLength} bytes, shorter than the 8-byte header length prefix");
        var prefix = new byte[8];
        ReadExactly(stream, prefix, 8, sourceName);
        ulong n = BitConverter.ToUInt64(prefix, 0);
        if (!BitConverter.IsLittleEndian) n = ReverseBytes(n);
        if (n > MaxHeaderLength)
            throw new SafetensorsFormatException(SafetensorsErrorKind.HeaderTooLarge, sourceName,
                $"declared header length {n} exceeds the {MaxHeaderLength}-byte bound");
        if ((long)n > streamLength - 8)
            throw new SafetensorsFormatException(SafetensorsErrorKind.HeaderPastEndOfFile, sourceName,
                $"declared header length {n} exceeds the {streamLength - 8} bytes after the length prefix");
        var json = new byte[(int)n];
        ReadExactly(stream, json, json.Length, sourceName);
        return Parse(json, streamLength, sourceName);
    }

    /// <summary>Parses and validates header JSON bytes of a file of <paramref name="fileLength"/> bytes.</summary>
    public static SafetensorsHeader Parse(byte[] json, long fileLength, string sourceName)
    {
        if (json == null) throw new ArgumentNullException(nameof(json));
        long dataLength = fileLength - 8 - json.Length;
        if (dataLength < 0)
            throw new SafetensorsFormatException(SafetensorsErrorKind.HeaderPastEndOfFile, sourceName,
                $"header of {json.Length} bytes does not fit in a file of {fileLength} bytes");
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(json);
        }
        catch (DecoderFallbackException e)
        {
            throw new SafetensorsFormatException(SafetensorsErrorKind.InvalidUtf8, sourceName, "header is not valid UTF-8", e);
        }
        JsonValue root;
        try
        {
            root = JsonValue.Parse(text.TrimEnd(' '));
        }
        catch (JsonParseException e)
        {
            throw new SafetensorsFormatException(SafetensorsErrorKind.InvalidJson, sourceName, "header " + e.Message, e);
        }
        if (root.Kind != JsonValueKind.Object)
            throw new SafetensorsFormatException(SafetensorsErrorKind.NotAnObject, sourceName, "header JSON is not an object");

        IReadOnlyDictionary<string, string> metadata = EmptyMetadata;
        var tensors = new List<SafetensorsTensorInfo>(root.Properties.Count);
        foreach (var member in root.Properties)
        {
            if (member.Key == "__metadata__")
            {
                metadata = ParseMetadata(member.Value, sourceName);
                continue;
            }
            tensors.Add(ParseTensor(member.Key, member.Value, dataLength, sourceName));
        }

        tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (var t in tensors)
        {
            if (t.Begin != expected)
                throw new SafetensorsFormatException(SafetensorsErrorKind.NonContiguous, sourceName,
                    t.Begin < expected
                        ? $"tensor '{t.Name}' at [{t.Begin}, {t.End}) overlaps the previous tensor ending at {expected}"
                        : $"gap before tensor '{t.Name}': data starts at {t.Begin}, previous data ended at {expected}");
            expected = t.End;
        }
        if (expected != dataLength)
            throw new SafetensorsFormatException(SafetensorsErrorKind.DataSectionMismatch, sourceName,
                $"tensors cover {expected} bytes but the data section has {dataLength} bytes");
        return new SafetensorsHeader(sourceName, fileLength, json.Length, tensors, metadata);
    }

    /// <summary>Throws <see cref="SafetensorsFormatException"/> (UnsupportedFormat) for pickle-based checkpoint extensions.</summary>
    public static void RefusePickle(string path)
    {
        string ext = Path.GetExtension(path ?? string.Empty).ToLowerInvariant();
        if (ext == ".bin" || ext == ".ckpt" || ext == ".pt" || ext == ".pth" || ext == ".pkl")
            throw new SafetensorsFormatException(SafetensorsErrorKind.UnsupportedFormat, path!,
                $"'{ext}' files are pickle-based and can execute code when loaded; LoraSdk never unpickles. Convert the file to .safetensors first.");
    }

    private static IReadOnlyDictionary<string, string> ParseMetadata(JsonValue value, string sourceName)
    {
        if (value.Kind != JsonValueKind.Object)
            throw new SafetensorsFormatException(SafetensorsErrorKind.InvalidMetadata, sourceName, "__metadata__ is not an object");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in value.Properties)
        {
            if (p.Value.Kind != JsonValueKind.String)
                throw new SafetensorsFormatException(SafetensorsErrorKind.InvalidMetadata, sourceName,
                    $"__metadata__ value '{p.Key}' is {p.Value.Kind}, not a string");
            result[p.Key] = p.Value.AsString();
        }
        return result;
    }

    private static SafetensorsTensorInfo ParseTensor(string name, JsonValue entry, long dataLength, string sourceName)
    {
        if (entry.Kind != JsonValueKind.Object)
            throw new SafetensorsFormatException(SafetensorsErrorKind.NotAnObject, sourceName, $"tensor '{name}' entry is not an object");
        if (!entry.TryGetProperty("dtype", out var dtypeValue) || dtypeValue.Kind != JsonValueKind.String)
            throw Missing(name, "dtype", sourceName);
        if (!entry.TryGetProperty("shape", out var shapeValue) || shapeValue.Kind != JsonValueKind.Array)
            throw Missing(name, "shape", sourceName);
        if (!entry.TryGetProperty("data_offsets", out var offsetsValue) || offsetsValue.Kind != JsonValueKind.Array)
            throw Missing(name, "data_offsets", sourceName);
        if (!SafetensorsDTypes.TryParse(dtypeValue.AsString(), out var dtype))
            throw new SafetensorsFormatException(SafetensorsErrorKind.UnknownDType, sourceName,
                $"tensor '{name}' has unknown dtype '{dtypeValue.AsString()}'");

        var shape = new long[shapeValue.Items.Count];
        long elements = 1;
        bool overflow = false;
        for (int i = 0; i < shape.Length; i++)
        {
            var d = shapeValue.Items[i];
            if (!d.TryGetInt64(out long dim) || dim < 0)
                throw new SafetensorsFormatException(SafetensorsErrorKind.InvalidShape, sourceName,
                    $"tensor '{name}' has invalid dimension {d} at index {i}");
            shape[i] = dim;
            if (!overflow)
            {
                try { elements = checked(elements * dim); }
                catch (OverflowException) { overflow = true; }
            }
        }

        if (offsetsValue.Items.Count != 2
            || !offsetsValue.Items[0].TryGetInt64(out long begin) || !offsetsValue.Items[1].TryGetInt64(out long end)
            || begin < 0 || end < begin)
            throw new SafetensorsFormatException(SafetensorsErrorKind.InvalidOffsets, sourceName,
                $"tensor '{name}' has invalid data_offsets (need [begin, end] with 0 <= begin <= end)");
        if (end > dataLength)
            throw new SafetensorsFormatException(SafetensorsErrorKind.DataSectionMismatch, sourceName,
                $"tensor '{name}' data [{begin}, {end}) lies past the end of the {dataLength}-byte data section");

        long expectedBytes = 0;
        if (!overflow)
        {
            try { expectedBytes = checked(elements * SafetensorsDTypes.SizeOf(dtype)); }
            catch (OverflowException) { overflow = true; }
        }
        if (overflow || expectedBytes != end - begin)
            throw new SafetensorsFormatException(SafetensorsErrorKind.LengthMismatch, sourceName,
                overflow
                    ? $"tensor '{name}' shape [{string.Join(", ", shape)}] overflows a 64-bit byte count"
                    : $"tensor '{name}' has {end - begin} bytes but shape [{string.Join(", ", shape)}] of {dtype} needs {expectedBytes}");
        return new SafetensorsTensorInfo(name, dtype, shape, begin, end, elements);
    }

    private static SafetensorsFormatException Missing(string tensor, string field, string sourceName) =>
        new SafetensorsFormatException(SafetensorsErrorKind.MissingField, sourceName, $"tensor '{tensor}' lacks a valid '{field}'");

    private static void ReadExactly(Stream stream, byte[] buffer, int count, string sourceName)
    {
        int read = 0;
        try
        {
            while (read < count)
            {
                int n = stream.Read(buffer, read, count - read);
                if (n <= 0) break;
                read += n;
            }
        }
        catch (IOException e)
        {
            throw new SafetensorsFormatException(SafetensorsErrorKind.IoError, sourceName, e.Message, e);
        }
        if (read != count)
            throw new SafetensorsFormatException(SafetensorsErrorKind.HeaderPastEndOfFile, sourceName,
                $"file ended after {read} of {count} header bytes");
    }

    private static ulong ReverseBytes(ulong v)
    {
        ulong r = 0;
        for (int i = 0; i < 8; i++) { r = (r << 8) | (v & 0xFF); v >>= 8; }
        return r;
    }

    /// <summary>Formats a shape like <c>[4, 64]</c>.</summary>
    public static string FormatShape(IReadOnlyList<long> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }
        return sb.Append(']').ToString();
    }
}
