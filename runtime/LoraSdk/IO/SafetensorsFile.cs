using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using LoraSdk.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace LoraSdk.IO;

/// <summary>
/// An open safetensors file whose tensors load into TorchSharp. A tensor whose absolute file offset is a multiple of
/// its element size is returned as a zero-copy view of a private (copy-on-write) memory map of the file; in-place
/// changes to it never reach the file. Other tensors are read with exactly one copy, straight into tensor memory.
/// Returned tensors are owned by the caller; they stay valid after this object is disposed.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    private readonly Dictionary<ScalarType, Tensor> _maps = new Dictionary<ScalarType, Tensor>();
    private bool _disposed;

    private SafetensorsFile(string path, SafetensorsHeader header)
    {
        Path = path;
        Header = header;
    }

    /// <summary>The file path.</summary>
    public string Path { get; }

    /// <summary>The validated header.</summary>
    public SafetensorsHeader Header { get; }

    /// <summary>Tensor keys in file order.</summary>
    public IEnumerable<string> Keys
    {
        get { foreach (var t in Header.Tensors) yield return t.Name; }
    }

    /// <summary>Opens a file and validates its header (reads only the header bytes).</summary>
    /// <exception cref="UnsupportedFileFormatException">A pickle-based checkpoint (.bin/.ckpt/.pt/.pth).</exception>
    /// <exception cref="SafetensorsFormatException">The header is invalid.</exception>
    public static SafetensorsFile Open(string path)
    {
        try
        {
            SafetensorsHeader.RefusePickle(path);
        }
        catch (SafetensorsFormatException e)
        {
            throw new UnsupportedFileFormatException(path, e.Reason);
        }
        return new SafetensorsFile(path, SafetensorsHeader.Read(path));
    }

    /// <summary>The header entry of <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming the file.</summary>
    public SafetensorsTensorInfo Info(string name) =>
        Header.TryGetTensor(name, out var info) ? info : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <summary>True when <see cref="Load"/> of this tensor without conversion returns a zero-copy view.</summary>
    public bool IsZeroCopy(string name)
    {
        var info = Info(name);
        return SafetensorsDTypeMapping.IsNative(info.DType) && info.ElementCount > 0
            && (Header.DataOffset + info.Begin) % SafetensorsDTypes.SizeOf(info.DType) == 0;
    }

    /// <summary>Loads one tensor, optionally converted to <paramref name="dtype"/> and moved to <paramref name="device"/>.</summary>
    public Tensor Load(string name, ScalarType? dtype = null, Device? device = null)
    {
        ThrowIfDisposed();
        var info = Info(name);
        Tensor raw = IsZeroCopy(name) ? MappedView(info) : ReadCopy(info);
        ScalarType target = dtype ?? raw.dtype;
        bool move = device != null && device.type != DeviceType.CPU;
        if (target == raw.dtype && !move) return raw;
        using (raw)
        {
            return move ? raw.to(target, device!) : raw.to(target);
        }
    }

    /// <summary>Loads every tensor (see <see cref="Load"/>).</summary>
    public Dictionary<string, Tensor> LoadAll(ScalarType? dtype = null, Device? device = null)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var t in Header.Tensors) result[t.Name] = Load(t.Name, dtype, device);
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>Reads a scalar tensor (e.g. a kohya <c>.alpha</c>) as a double.</summary>
    public double ReadScalar(string name)
    {
        using var t = Load(name, ScalarType.Float64);
        if (t.numel() != 1) throw new InvalidDataException($"{Path}: tensor '{name}' has {t.numel()} elements, not 1");
        return t.item<double>();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var m in _maps.Values) m.Dispose();
        _maps.Clear();
    }

    private Tensor MappedView(SafetensorsTensorInfo info)
    {
        ScalarType type = SafetensorsDTypeMapping.ToScalarType(info.DType);
        int size = SafetensorsDTypes.SizeOf(info.DType);
        if (!_maps.TryGetValue(type, out var map))
        {
            // A private mapping of the whole file, viewed as elements of this type (shared: false = copy-on-write).
            map = torch.from_file(Path, false, Header.FileLength / size, type);
            // The mapping is cached across calls: it must not die with a DisposeScope the caller happens to be in.
            map.DetachFromDisposeScope();
            _maps[type] = map;
        }
        long start = (Header.DataOffset + info.Begin) / size;
        using var flat = map.narrow(0, start, info.ElementCount);
        return flat.view(info.Shape);
    }

    private Tensor ReadCopy(SafetensorsTensorInfo info)
    {
        bool native = SafetensorsDTypeMapping.IsNative(info.DType);
        ScalarType type = SafetensorsDTypeMapping.ToScalarType(info.DType);
        var result = torch.empty(info.Shape, type);
        if (info.ByteLength == 0) return result;
        try
        {
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            stream.Position = Header.DataOffset + info.Begin;
            if (native)
            {
                ReadInto(stream, result.bytes, info);
            }
            else
            {
                var raw = new byte[info.ByteLength];
                ReadInto(stream, raw, info);
                Float8Decoder.Decode(info.DType, raw, MemoryMarshal.Cast<byte, float>(result.bytes));
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private void ReadInto(Stream stream, Span<byte> destination, SafetensorsTensorInfo info)
    {
        while (destination.Length > 0)
        {
            int n = stream.Read(destination);
            if (n <= 0) throw new EndOfStreamException($"{Path}: file ended inside tensor '{info.Name}'");
            destination = destination.Slice(n);
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(SafetensorsFile), Path);
    }
}
