namespace NativeModels.IO;

/// <summary>Element types of the safetensors format (header spelling in <see cref="SafetensorsDTypes.HeaderName"/>).</summary>
public enum SafetensorsDType
{
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
    U64,
    U32,
    U16,
    F8E4M3,
    F8E5M2,
}

/// <summary>Header names, element sizes and the mapping to <see cref="DType"/>.</summary>
public static class SafetensorsDTypes
{
    /// <summary>The spelling used in the safetensors header ("F32", "BF16", "BOOL", "F8_E4M3", ...).</summary>
    public static string HeaderName(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 => "F64",
        SafetensorsDType.F32 => "F32",
        SafetensorsDType.F16 => "F16",
        SafetensorsDType.BF16 => "BF16",
        SafetensorsDType.I64 => "I64",
        SafetensorsDType.I32 => "I32",
        SafetensorsDType.I16 => "I16",
        SafetensorsDType.I8 => "I8",
        SafetensorsDType.U8 => "U8",
        SafetensorsDType.Bool => "BOOL",
        SafetensorsDType.U64 => "U64",
        SafetensorsDType.U32 => "U32",
        SafetensorsDType.U16 => "U16",
        SafetensorsDType.F8E4M3 => "F8_E4M3",
        SafetensorsDType.F8E5M2 => "F8_E5M2",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>Parses a header dtype name (exact, case-sensitive as the format defines).</summary>
    public static bool TryParse(string? text, out SafetensorsDType dtype)
    {
        switch (text)
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
            case "BOOL": dtype = SafetensorsDType.Bool; return true;
            case "U64": dtype = SafetensorsDType.U64; return true;
            case "U32": dtype = SafetensorsDType.U32; return true;
            case "U16": dtype = SafetensorsDType.U16; return true;
            case "F8_E4M3": dtype = SafetensorsDType.F8E4M3; return true;
            case "F8_E5M2": dtype = SafetensorsDType.F8E5M2; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 or SafetensorsDType.I64 or SafetensorsDType.U64 => 8,
        SafetensorsDType.F32 or SafetensorsDType.I32 or SafetensorsDType.U32 => 4,
        SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.I16 or SafetensorsDType.U16 => 2,
        SafetensorsDType.I8 or SafetensorsDType.U8 or SafetensorsDType.Bool or SafetensorsDType.F8E4M3 or SafetensorsDType.F8E5M2 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>The tensor dtype with the same bit layout (F32, F16, BF16, I32), if there is one.</summary>
    public static DType? ToDType(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F32 => DType.Float32,
        SafetensorsDType.F16 => DType.Float16,
        SafetensorsDType.BF16 => DType.BFloat16,
        SafetensorsDType.I32 => DType.Int32,
        _ => null,
    };

    /// <summary>The safetensors dtype with the same bit layout as <paramref name="dtype"/>.</summary>
    public static SafetensorsDType FromDType(DType dtype) => dtype switch
    {
        DType.Float32 => SafetensorsDType.F32,
        DType.Float16 => SafetensorsDType.F16,
        DType.BFloat16 => SafetensorsDType.BF16,
        DType.Int32 => SafetensorsDType.I32,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };
}

/// <summary>One tensor of a safetensors file. <see cref="DataOffset"/> is relative to the start of the data
/// section (the header's data_offsets[0]); <see cref="SafetensorsFile.DataSectionOffset"/> gives the absolute position.</summary>
public sealed record SafetensorsEntry(string Name, SafetensorsDType DType, long[] Shape, long DataOffset, long ByteLength)
{
    /// <summary>Number of elements (1 for a scalar, shape []).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape)
            {
                n *= d;
            }
            return n;
        }
    }
}
