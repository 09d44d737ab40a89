using System.Runtime.InteropServices;
using NativeModels.IO;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.IO;

public class WeightStoreTests : CpuTest, IDisposable
{
    private readonly TempDirectory _dir = new();

    public new void Dispose()
    {
        _dir.Dispose();
        base.Dispose();
    }

    private static ReadOnlyMemory<byte> Bytes<T>(T[] values) where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    // Values exactly representable in bfloat16 and float16, and some that need rounding.
    private static readonly float[] Exact = [1f, -2f, 0.5f, 3.25f, -0.125f, 96f];
    private static readonly float[] NeedRounding = [1.00390625f, 1.01171875f, 1.1f, -3.3f, 1000.7f, 0.3f];

    private void WriteSingle()
    {
        SafetensorsWriter.Write(_dir.File(WeightStore.SingleFileName),
        [
            ("exact", SafetensorsDType.F32, [2, 3], Bytes(Exact)),
            ("round", SafetensorsDType.F32, [6], Bytes(NeedRounding)),
            ("bf16", SafetensorsDType.BF16, [3, 2], Bytes(NeedRounding.Select(v => (BFloat16)v).ToArray())),
            ("f16", SafetensorsDType.F16, [6], Bytes(NeedRounding.Select(v => (Half)v).ToArray())),
            ("ids", SafetensorsDType.I32, [3], Bytes(new[] { 7, -1, 3 })),
            ("i64", SafetensorsDType.I64, [1], Bytes(new[] { 5L })),
            ("scalar", SafetensorsDType.F32, [], Bytes(new[] { 4f })),
            ("empty", SafetensorsDType.F32, [0], ReadOnlyMemory<byte>.Empty),
        ]);
    }

    [Fact]
    public void SingleFileLoadsEveryFloatConversionExactly()
    {
        WriteSingle();
        using var store = WeightStore.Open(_dir.Path);
        Assert.Equal(["bf16", "empty", "exact", "f16", "i64", "ids", "round", "scalar"], store.Names.ToArray());
        Assert.True(store.Contains("exact"));
        Assert.False(store.Contains("nope"));

        using var f32 = store.Load("exact", Cpu, DType.Float32, 2, 3);
        Assert.Equal([2L, 3L], f32.Shape);
        Assert.Equal(Exact, f32.ToArray<float>());

        using var toBf16 = store.Load("round", Cpu, DType.BFloat16);
        Assert.Equal(DType.BFloat16, toBf16.DType);
        Assert.Equal(NeedRounding.Select(v => (BFloat16)v).ToArray(), toBf16.ToArray<BFloat16>());

        using var toF16 = store.Load("round", Cpu, DType.Float16);
        Assert.Equal(NeedRounding.Select(v => (Half)v).ToArray(), toF16.ToArray<Half>());

        using var bf16ToF32 = store.Load("bf16", Cpu, DType.Float32, 3, 2);
        Assert.Equal(NeedRounding.Select(v => (float)(BFloat16)v).ToArray(), bf16ToF32.ToArray<float>());

        using var f16ToF32 = store.Load("f16", Cpu, DType.Float32);
        Assert.Equal(NeedRounding.Select(v => (float)(Half)v).ToArray(), f16ToF32.ToArray<float>());

        using var bf16Kept = store.Load("bf16", Cpu, DType.BFloat16);
        Assert.Equal(NeedRounding.Select(v => (BFloat16)v).ToArray(), bf16Kept.ToArray<BFloat16>());

        using var ids = store.Load("ids", Cpu, DType.Int32);
        Assert.Equal([7, -1, 3], ids.ToArray<int>());

        using var scalar = store.Load("scalar", Cpu, DType.Float32);
        Assert.Equal([1L], scalar.Shape);
        Assert.Equal([4f], scalar.ToArray<float>());
    }

    [Fact]
    public void DescribeGivesStoredDTypeShapeAndFile()
    {
        WriteSingle();
        using var store = WeightStore.Open(_dir.Path);
        var info = store.Describe("bf16");
        Assert.Equal("bf16", info.Name);
        Assert.Equal(SafetensorsDType.BF16, info.DType);
        Assert.Equal([3L, 2L], info.Shape);
        Assert.Equal(_dir.File(WeightStore.SingleFileName), info.File);

        var e = Assert.Throws<ModelFormatException>(() => store.Describe("layers.0.mixer.A_log"));
        Assert.Contains(_dir.Path, e.Message);
        Assert.Contains("'layers.0.mixer.A_log'", e.Message);
        Assert.Throws<ModelFormatException>(() => store.Load("layers.0.mixer.A_log", Cpu, DType.Float32));
    }

    [Fact]
    public void ShapeMismatchNamesFileTensorAndBothShapes()
    {
        WriteSingle();
        using var store = WeightStore.Open(_dir.Path);
        var e = Assert.Throws<ModelFormatException>(() => store.Load("exact", Cpu, DType.Float32, 3, 2));
        Assert.Contains(_dir.File(WeightStore.SingleFileName), e.Message);
        Assert.Contains("'exact'", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("expected [3, 2]", e.Message);
        Assert.Throws<ModelFormatException>(() => store.Load("exact", Cpu, DType.Float32, 6));
    }

    [Fact]
    public void UnsupportedConversionsAreNamed()
    {
        WriteSingle();
        using var store = WeightStore.Open(_dir.Path);
        var e = Assert.Throws<ModelFormatException>(() => store.Load("i64", Cpu, DType.Float32));
        Assert.Contains("'i64'", e.Message);
        Assert.Contains("I64", e.Message);
        Assert.Throws<ModelFormatException>(() => store.Load("exact", Cpu, DType.Int32));
        Assert.Throws<ModelFormatException>(() => store.Load("ids", Cpu, DType.Float32));
        var empty = Assert.Throws<ModelFormatException>(() => store.Load("empty", Cpu, DType.Float32));
        Assert.Contains("'empty'", empty.Message);
    }

    [Fact]
    public void LoadRowsSplitsAFusedWeight()
    {
        float[] fused = Enumerable.Range(0, 4 * 3).Select(i => (float)i).ToArray();
        SafetensorsWriter.Write(_dir.File(WeightStore.SingleFileName),
        [
            ("in_proj", SafetensorsDType.F32, [4, 3], Bytes(fused)),
            ("conv", SafetensorsDType.BF16, [4, 1, 2], Bytes(Enumerable.Range(0, 8).Select(i => (BFloat16)(float)i).ToArray())),
        ]);
        using var store = WeightStore.Open(_dir.Path);
        using var x = store.LoadRows("in_proj", 0, 2, Cpu, DType.Float32);
        using var z = store.LoadRows("in_proj", 2, 2, Cpu, DType.BFloat16);
        Assert.Equal([2L, 3L], x.Shape);
        Assert.Equal(fused[..6], x.ToArray<float>());
        Assert.Equal(fused[6..], z.ToFloatArray());
        using var conv = store.LoadRows("conv", 1, 3, Cpu, DType.Float32);
        Assert.Equal([3L, 1L, 2L], conv.Shape);
        Assert.Equal([2f, 3f, 4f, 5f, 6f, 7f], conv.ToArray<float>());

        Assert.Throws<ArgumentOutOfRangeException>(() => store.LoadRows("in_proj", 3, 2, Cpu, DType.Float32));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.LoadRows("in_proj", -1, 1, Cpu, DType.Float32));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.LoadRows("in_proj", 0, 0, Cpu, DType.Float32));
    }

    [Fact]
    public void LargeTensorsUploadInPieces()
    {
        int saved = WeightStore.UploadChunkBytes;
        WeightStore.UploadChunkBytes = 12; // not a multiple of the element size: pieces split elements
        try
        {
            float[] values = Enumerable.Range(0, 25).Select(i => i * 0.5f - 3f).ToArray();
            SafetensorsWriter.WriteFloat32(_dir.File(WeightStore.SingleFileName), [("w", [5, 5], values)]);
            using var store = WeightStore.Open(_dir.Path);
            using var w = store.Load("w", Cpu, DType.Float32, 5, 5);
            Assert.Equal(values, w.ToArray<float>());
            using var rows = store.LoadRows("w", 1, 3, Cpu, DType.BFloat16);
            Assert.Equal(values[5..20], rows.ToFloatArray());
        }
        finally
        {
            WeightStore.UploadChunkBytes = saved;
        }
    }

    [Fact]
    public void NoWeightsInTheFolder()
    {
        var e = Assert.Throws<ModelFormatException>(() => WeightStore.Open(_dir.Path));
        Assert.Contains(_dir.Path, e.Message);
        Assert.Contains("model.safetensors", e.Message);
        Assert.Throws<ModelFormatException>(() => WeightStore.Open(_dir.File("missing-folder")));
    }

    [Fact]
    public void DisposedStoreRefusesLoads()
    {
        WriteSingle();
        var store = WeightStore.Open(_dir.Path);
        store.Dispose();
        Assert.Throws<ObjectDisposedException>(() => store.Load("exact", Cpu, DType.Float32));
    }
}
