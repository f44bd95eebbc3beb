namespace LoraSdk.Core;

/// <summary>One tensor entry of a safetensors header.</summary>
public sealed class SafetensorsTensorInfo
{
    /// <summary>Creates an entry (offsets are relative to the start of the data section).</summary>
    public SafetensorsTensorInfo(string name, SafetensorsDType dtype, long[] shape, long begin, long end, long elementCount)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        Begin = begin;
        End = end;
        ElementCount = elementCount;
    }

    /// <summary>The tensor's key.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public SafetensorsDType DType { get; }

    /// <summary>Dimensions (empty for a scalar).</summary>
    public long[] Shape { get; }

    /// <summary>First byte, relative to the data section.</summary>
    public long Begin { get; }

    /// <summary>One past the last byte, relative to the data section.</summary>
    public long End { get; }

    /// <summary>Bytes of tensor data.</summary>
    public long ByteLength => End - Begin;

    /// <summary>Product of the dimensions (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {DType} [{string.Join(", ", Shape)}]";
}
