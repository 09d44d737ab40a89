using NativeModels.Interop;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Ops;

public class EmbeddingTests : CpuTest
{
    [Fact]
    public void GathersRows()
    {
        using var weight = F32([0, 1, 2, 3, 4, 5], 3, 2);
        using var y = NativeModels.Ops.Embedding(weight, [2, 0, 2]);
        Assert.Equal([3L, 2L], y.Shape);
        TestAssert.Close([4, 5, 0, 1, 4, 5], y.ToArray<float>());
    }

    [Fact]
    public void GathersBFloat16Rows()
    {
        using var weight = Tensor.FromArray(Cpu, new[] { (BFloat16)1f, (BFloat16)2f, (BFloat16)3f, (BFloat16)4f }, 2, 2);
        using var y = NativeModels.Ops.Embedding(weight, [1]);
        Assert.Equal(DType.BFloat16, y.DType);
        Assert.Equal([3f, 4f], y.ToFloatArray());
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-1)]
    public void OutOfRangeIdIsAnArgumentErrorNamingIds(int badId)
    {
        using var weight = F32([0, 1, 2, 3, 4, 5], 3, 2);
        var e = Assert.Throws<NativeArgumentException>(() => NativeModels.Ops.Embedding(weight, [0, badId]));
        Assert.Contains("ids", e.Message);
    }
}
