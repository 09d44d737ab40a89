namespace NativeModels;

/// <summary>Names, sizes and .NET element types of <see cref="DType"/>.</summary>
public static class DTypes
{
    /// <summary>The names nativemodels uses ("float32", "float16", "bfloat16", "int32").</summary>
    public static IReadOnlyList<string> Names { get; } = ["float32", "float16", "bfloat16", "int32"];

    public static string Name(this DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Float16 => "float16",
        DType.BFloat16 => "bfloat16",
        DType.Int32 => "int32",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a dtype"),
    };

    /// <summary>Bytes per element.</summary>
    public static int Size(this DType dtype) => dtype switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.Float16 or DType.BFloat16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a dtype"),
    };

    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.Float32 or DType.Float16 or DType.BFloat16;

    /// <summary>Parses a dtype name; also accepts the short forms f32, f16, fp16, bf16, i32 and half, float, int.</summary>
    public static bool TryParse(string? text, out DType dtype)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "float32" or "f32" or "fp32" or "float": dtype = DType.Float32; return true;
            case "float16" or "f16" or "fp16" or "half": dtype = DType.Float16; return true;
            case "bfloat16" or "bf16": dtype = DType.BFloat16; return true;
            case "int32" or "i32" or "int": dtype = DType.Int32; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>The dtype stored by elements of type <typeparamref name="T"/>: float, Half, BFloat16 or int.</summary>
    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(Half)) return DType.Float16;
        if (typeof(T) == typeof(BFloat16)) return DType.BFloat16;
        if (typeof(T) == typeof(int)) return DType.Int32;
        throw new ArgumentException(
            $"element type {typeof(T).Name} has no tensor dtype; use float, Half, BFloat16 or int");
    }
}
