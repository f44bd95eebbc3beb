namespace LoraSdk.Core;

/// <summary>Why a safetensors file was rejected.</summary>
public enum SafetensorsErrorKind
{
    /// <summary>The file is shorter than the 8-byte length prefix.</summary>
    TooShortForLengthPrefix,
    /// <summary>The declared header length exceeds the 100 MB bound.</summary>
    HeaderTooLarge,
    /// <summary>The declared header length exceeds the file.</summary>
    HeaderPastEndOfFile,
    /// <summary>The header bytes are not valid UTF-8.</summary>
    InvalidUtf8,
    /// <summary>The header is not valid JSON.</summary>
    InvalidJson,
    /// <summary>The header JSON is not an object, or an entry is not an object.</summary>
    NotAnObject,
    /// <summary>A tensor entry lacks dtype, shape or data_offsets, or has them of the wrong type.</summary>
    MissingField,
    /// <summary>Unknown dtype name.</summary>
    UnknownDType,
    /// <summary>A shape dimension is negative, fractional or not a number.</summary>
    InvalidShape,
    /// <summary>data_offsets is not two non-negative integers with begin ≤ end.</summary>
    InvalidOffsets,
    /// <summary>Byte length ≠ element count × dtype size (or the product overflows).</summary>
    LengthMismatch,
    /// <summary>Tensors overlap, leave gaps, or do not start at 0.</summary>
    NonContiguous,
    /// <summary>A tensor's data lies past the end of the file, or data remains after the last tensor.</summary>
    DataSectionMismatch,
    /// <summary><c>__metadata__</c> is not an object of strings.</summary>
    InvalidMetadata,
    /// <summary>The file could not be read (I/O error).</summary>
    IoError,
    /// <summary>Not a safetensors file at all (a pickle-based checkpoint, for example).</summary>
    UnsupportedFormat,
}
