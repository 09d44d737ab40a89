namespace NativeModels;

/// <summary>Element type of a tensor; values match nm_dtype.</summary>
public enum DType
{
    Float32 = 0,
    Float16 = 1,
    BFloat16 = 2,
    Int32 = 3,
}
