using NativeModels.Tests.Support;

namespace NativeModels.Tests.Ops;

public class GemmTests : CpuTest
{
    private static readonly float[] A = [1, 2, 3, 4, 5, 6];        // [2, 3]
    private static readonly float[] B = [7, 8, 9, 10, 11, 12];     // [3, 2]
    private static readonly float[] AB = [58, 64, 139, 154];       // [2, 2]

    [Fact]
    public void TwoByThreeTimesThreeByTwo()
    {
        using var a = F32(A, 2, 3);
        using var b = F32(B, 3, 2);
        using var c = Cpu.Zeros(DType.Float32, 2, 2);
        NativeModels.Ops.Gemm(a, b, c);
        TestAssert.Close(AB, c.ToArray<float>());
    }

    [Fact]
    public void BiasIsAddedToEveryRow()
    {
        using var a = F32(A, 2, 3);
        using var b = F32(B, 3, 2);
        using var bias = F32([1, -1], 2);
        using var c = NativeModels.Ops.MatMul(a, b, bias);
        Assert.Equal([2L, 2L], c.Shape);
        TestAssert.Close([59, 63, 140, 153], c.ToArray<float>());
    }

    [Fact]
    public void TransposedBGivesTheSameProduct()
    {
        using var a = F32(A, 2, 3);
        using var bt = F32([7, 9, 11, 8, 10, 12], 2, 3);
        using var c = Cpu.Zeros(DType.Float32, 2, 2);
        NativeModels.Ops.Gemm(a, bt, c, transposeB: true);
        TestAssert.Close(AB, c.ToArray<float>());
    }

    [Fact]
    public void AlphaAndBetaScaleAndAccumulate()
    {
        using var a = F32(A, 2, 3);
        using var b = F32(B, 3, 2);
        using var c = F32([1, 1, 1, 1], 2, 2);
        NativeModels.Ops.Gemm(a, b, c, alpha: 2f, beta: 1f);
        TestAssert.Close([117, 129, 279, 309], c.ToArray<float>());
    }

    [Fact]
    public void LeadingDimensionsOfAAreKept()
    {
        using var a = F32([.. A, .. A], 2, 2, 3);
        using var b = F32(B, 3, 2);
        using var c = NativeModels.Ops.MatMul(a, b);
        Assert.Equal([2L, 2L, 2L], c.Shape);
        TestAssert.Close([.. AB, .. AB], c.ToArray<float>());
    }

    [Fact]
    public void MismatchedInnerDimensionIsAShapeError()
    {
        using var a = F32(A, 2, 3);
        using var b = F32([1, 2, 3, 4], 2, 2);
        using var c = Cpu.Zeros(DType.Float32, 2, 2);
        Assert.Throws<NativeModels.Interop.ShapeMismatchException>(() => NativeModels.Ops.Gemm(a, b, c));
    }
}
