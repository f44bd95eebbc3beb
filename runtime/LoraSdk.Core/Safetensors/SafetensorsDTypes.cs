using System;

namespace LoraSdk.Core;

/// <summary>Names and sizes of <see cref="SafetensorsDType"/> values as the safetensors format spells them.</summary>
public static class SafetensorsDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 or SafetensorsDType.I64 => 8,
        SafetensorsDType.F32 or SafetensorsDType.I32 => 4,
        SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.I16 => 2,
        SafetensorsDType.I8 or SafetensorsDType.U8 or SafetensorsDType.BOOL or SafetensorsDType.F8_E4M3 or SafetensorsDType.F8_E5M2 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The header spelling (e.g. <c>"BF16"</c>).</summary>
    public static string Name(SafetensorsDType dtype) => dtype.ToString();

    /// <summary>Parses a header dtype name (exact, case-sensitive, as the format requires).</summary>
    public static bool TryParse(string name, out SafetensorsDType dtype)
    {
        switch (name)
        {
            case "F64": dtype = SafetensorsDType.F64; return true;
            case "F32": dtype = SafetensorsDType.F32; return true;
            case "F16": dtype = SafetensorsDType.F16; return true;
            case "BF16": dtype = SafetensorsDType.BF16; return true;
            case "I64": dtype = SafetensorsDType.I64; return true;
            case "I32": dtype = SafetensorsDType.I32; return true;
            case "I16": dtype = SafetensorsDType.I16; return true;
            case "I8": dtype = SafetensorsDType.I8; return true;
            case "U8": dtype = SafetensorsDType.U8; return true;
            case "BOOL": dtype = SafetensorsDType.BOOL; return true;
            case "F8_E4M3": dtype = SafetensorsDType.F8_E4M3; return true;
            case "F8_E5M2": dtype = SafetensorsDType.F8_E5M2; return true;
            default: dtype = default; return false;
        }
    }
}
