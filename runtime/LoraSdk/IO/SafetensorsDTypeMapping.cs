using System;
using LoraSdk.Core;
using TorchSharp;

namespace LoraSdk.IO;

/// <summary>Maps safetensors dtypes to TorchSharp scalar types and back.</summary>
public static class SafetensorsDTypeMapping
{
    /// <summary>The TorchSharp type a dtype loads as; F8 types have no TorchSharp type and decode to float32.</summary>
    public static torch.ScalarType ToScalarType(SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 => torch.ScalarType.Float64,
        SafetensorsDType.F32 => torch.ScalarType.Float32,
        SafetensorsDType.F16 => torch.ScalarType.Float16,
        SafetensorsDType.BF16 => torch.ScalarType.BFloat16,
        SafetensorsDType.I64 => torch.ScalarType.Int64,
        SafetensorsDType.I32 => torch.ScalarType.Int32,
        SafetensorsDType.I16 => torch.ScalarType.Int16,
        SafetensorsDType.I8 => torch.ScalarType.Int8,
        SafetensorsDType.U8 => torch.ScalarType.Byte,
        SafetensorsDType.BOOL => torch.ScalarType.Bool,
        SafetensorsDType.F8_E4M3 or SafetensorsDType.F8_E5M2 => torch.ScalarType.Float32,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>True when the dtype has a native TorchSharp type (so it can be mapped without decoding).</summary>
    public static bool IsNative(SafetensorsDType dtype) => dtype != SafetensorsDType.F8_E4M3 && dtype != SafetensorsDType.F8_E5M2;

    /// <summary>The safetensors dtype a TorchSharp tensor is written as.</summary>
    public static SafetensorsDType FromScalarType(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float64 => SafetensorsDType.F64,
        torch.ScalarType.Float32 => SafetensorsDType.F32,
        torch.ScalarType.Float16 => SafetensorsDType.F16,
        torch.ScalarType.BFloat16 => SafetensorsDType.BF16,
        torch.ScalarType.Int64 => SafetensorsDType.I64,
        torch.ScalarType.Int32 => SafetensorsDType.I32,
        torch.ScalarType.Int16 => SafetensorsDType.I16,
        torch.ScalarType.Int8 => SafetensorsDType.I8,
        torch.ScalarType.Byte => SafetensorsDType.U8,
        torch.ScalarType.Bool => SafetensorsDType.BOOL,
        _ => throw new NotSupportedException($"safetensors has no dtype for TorchSharp type {type}"),
    };
}
