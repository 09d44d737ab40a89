using NativeModels.Interop;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Cuda;

/// <summary>The CUDA backend computes what the CPU backend computes.</summary>
public sealed class CudaVersusCpuTests : IDisposable
{
    private readonly Device _cpu = Device.Create("cpu");
    private readonly Lazy<Device> _gpu = new(() => Device.Create("cuda"));

    private Device Gpu => _gpu.Value;

    public void Dispose()
    {
        if (_gpu.IsValueCreated)
        {
            _gpu.Value.Dispose();
        }
        _cpu.Dispose();
    }

    private (Tensor Cpu, Tensor Gpu) Both(float[] data, params long[] shape) =>
        (Tensor.FromArray(_cpu, data, shape), Tensor.FromArray(Gpu, data, shape));

    private static float[] Random(int count, int seed) => ReferenceSampler.RandomLogits(count, seed, spread: 1f);

    [CudaFact]
    public void CudaDeviceReportsItsBackend()
    {
        Assert.Equal(BackendKind.Cuda, Gpu.Backend);
        Assert.Equal("cuda:0", Gpu.ToString());
        using var t = Gpu.Zeros(DType.Float32, 256);
        Assert.True(Gpu.MemoryInUse >= 1024);
    }

    [CudaFact]
    public void RoundTripsAllDTypes()
    {
        float[] data = Random(100, 1);
        using var f = Tensor.FromArray(Gpu, data);
        Assert.Equal(data, f.ToArray<float>());
        var halves = data.Select(v => (Half)v).ToArray();
        using var h = Tensor.FromArray(Gpu, halves);
        Assert.Equal(halves, h.ToArray<Half>());
        var bf = data.Select(v => (BFloat16)v).ToArray();
        using var b = Tensor.FromArray(Gpu, bf);
        Assert.Equal(bf, b.ToArray<BFloat16>());
        int[] ints = Enumerable.Range(-50, 100).ToArray();
        using var i = Tensor.FromArray(Gpu, ints);
        Assert.Equal(ints, i.ToArray<int>());
    }

    [CudaFact]
    public void CopiesBetweenCpuAndCuda()
    {
        float[] data = Random(64, 2);
        using var source = Tensor.FromArray(_cpu, data);
        using var onGpu = Gpu.Zeros(DType.Float32, 64);
        onGpu.CopyFrom(source);
        using var back = _cpu.Zeros(DType.Float32, 64);
        back.CopyFrom(onGpu);
        Assert.Equal(data, back.ToArray<float>());
    }

    [CudaFact]
    public void MixingCpuAndCudaTensorsIsADeviceError()
    {
        using var a = Tensor.FromArray(_cpu, [1f, 2f]);
        using var b = Tensor.FromArray(Gpu, [1f, 2f]);
        Assert.Throws<DeviceMismatchException>(() => NativeModels.Ops.Add(a, b));
        Assert.Throws<DeviceMismatchException>(() => NativeModels.Ops.Add(b, a));
    }

    [CudaFact]
    public void Gemm()
    {
        const int m = 17, k = 33, n = 9;
        var (aC, aG) = Both(Random(m * k, 3), m, k);
        var (bC, bG) = Both(Random(k * n, 4), k, n);
        var (biasC, biasG) = Both(Random(n, 5), n);
        using (aC) using (aG) using (bC) using (bG) using (biasC) using (biasG)
        {
            using var cC = NativeModels.Ops.MatMul(aC, bC, biasC);
            using var cG = NativeModels.Ops.MatMul(aG, bG, biasG);
            TestAssert.Close(cC.ToArray<float>(), cG.ToArray<float>(), 1e-4f);
        }
    }

    [CudaFact]
    public void GemmBFloat16InputsWithFloat32Output()
    {
        const int m = 8, k = 64, n = 16;
        float[] a = Random(m * k, 6), b = Random(k * n, 7);
        using var aC = Tensor.FromArray(_cpu, a.Select(v => (BFloat16)v).ToArray(), m, k);
        using var bC = Tensor.FromArray(_cpu, b.Select(v => (BFloat16)v).ToArray(), n, k);
        using var aG = Tensor.FromArray(Gpu, a.Select(v => (BFloat16)v).ToArray(), m, k);
        using var bG = Tensor.FromArray(Gpu, b.Select(v => (BFloat16)v).ToArray(), n, k);
        using var cC = NativeModels.Ops.Gemm(aC, bC, _cpu.Zeros(DType.Float32, m, n), transposeB: true);
        using var cG = NativeModels.Ops.Gemm(aG, bG, Gpu.Zeros(DType.Float32, m, n), transposeB: true);
        TestAssert.Close(cC.ToArray<float>(), cG.ToArray<float>(), 1e-3f);
    }

    [CudaFact]
    public void RmsNorm()
    {
        var (xC, xG) = Both(Random(4 * 96, 8), 4, 96);
        var (wC, wG) = Both(Random(96, 9), 96);
        using (xC) using (xG) using (wC) using (wG)
        {
            using var yC = NativeModels.Ops.RmsNorm(xC, wC, 1e-6f, zeroCentered: true);
            using var yG = NativeModels.Ops.RmsNorm(xG, wG, 1e-6f, zeroCentered: true);
            TestAssert.Close(yC.ToArray<float>(), yG.ToArray<float>(), 1e-4f);
        }
    }

    [CudaFact]
    public void Rope()
    {
        int[] positions = [0, 1, 7, 1000, 4095];
        var (xC, xG) = Both(Random(positions.Length * 4 * 64, 10), positions.Length, 4, 64);
        using (xC) using (xG)
        {
            foreach (var options in new[]
                     {
                         new RopeOptions { Theta = 10000f },
                         new RopeOptions { Theta = 500000f, Interleaved = true },
                         new RopeOptions { Theta = 10000f, RotaryDim = 32, AttentionScaling = 1.2f },
                     })
            {
                using var yC = NativeModels.Ops.Rope(xC, positions, options);
                using var yG = NativeModels.Ops.Rope(xG, positions, options);
                TestAssert.Close(yC.ToArray<float>(), yG.ToArray<float>(), 1e-4f);
            }
        }
    }

    [CudaFact]
    public void Conv1dCausalAndUpdate()
    {
        const int batch = 2, length = 9, channels = 24, kernel = 4;
        var (xC, xG) = Both(Random(batch * length * channels, 11), batch, length, channels);
        var (wC, wG) = Both(Random(channels * kernel, 12), channels, kernel);
        var (bC, bG) = Both(Random(channels, 13), channels);
        var (sC, sG) = Both(Random(batch * channels * (kernel - 1), 14), batch, channels, kernel - 1);
        var (stepC, stepG) = Both(Random(batch * channels, 15), batch, channels);
        using (xC) using (xG) using (wC) using (wG) using (bC) using (bG) using (sC) using (sG) using (stepC) using (stepG)
        {
            using var yC = NativeModels.Ops.Conv1dCausal(xC, wC, bC, initialState: sC, finalState: sC, activation: Activation.Silu);
            using var yG = NativeModels.Ops.Conv1dCausal(xG, wG, bG, initialState: sG, finalState: sG, activation: Activation.Silu);
            TestAssert.Close(yC.ToArray<float>(), yG.ToArray<float>(), 1e-4f);
            TestAssert.Close(sC.ToArray<float>(), sG.ToArray<float>(), 0f);

            using var uC = NativeModels.Ops.Conv1dUpdate(stepC, sC, wC, bC, Activation.Silu);
            using var uG = NativeModels.Ops.Conv1dUpdate(stepG, sG, wG, bG, Activation.Silu);
            TestAssert.Close(uC.ToArray<float>(), uG.ToArray<float>(), 1e-4f);
            TestAssert.Close(sC.ToArray<float>(), sG.ToArray<float>(), 0f);
        }
    }

    [CudaFact]
    public void SampleGivesTheSameTokensAsCpu()
    {
        const int rows = 8, vocabulary = 5000;
        var (lC, lG) = Both(ReferenceSampler.RandomLogits(rows * vocabulary, 16, spread: 6f), rows, vocabulary);
        using (lC) using (lG)
        {
            foreach (var options in new[]
                     {
                         SamplingOptions.Greedy,
                         new SamplingOptions { Temperature = 1f },
                         new SamplingOptions { Temperature = 0.7f, TopK = 50 },
                         new SamplingOptions { Temperature = 0.9f, TopP = 0.9f },
                         new SamplingOptions { Temperature = 1.3f, TopK = 200, TopP = 0.5f },
                     })
            {
                for (ulong step = 0; step < 10; step++)
                {
                    Assert.Equal(NativeModels.Ops.Sample(lC, options, seed: 7, step), NativeModels.Ops.Sample(lG, options, seed: 7, step));
                }
            }
        }
    }
}
